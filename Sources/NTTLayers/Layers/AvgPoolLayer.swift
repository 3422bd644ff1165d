import NTTKernels

/// Mean over NHWC windows (with `same` padding, over in-image elements only). Linear, so its
/// cotangent push is its adjoint over the n·k cotangent images.
package struct AvgPoolLayer: PoolingLayer {
    package var pooling: PoolingWindow

    package init(pooling: PoolingWindow) { self.pooling = pooling }

    package func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor {
        x.avgPool(pooling.geometry(x.shape))
    }

    package func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace) {
        let g = pooling.geometry(x.shape)
        return (x.avgPool(g), Trace(geometry: g))
    }

    /// The window geometry over the n input images.
    package struct Trace: LayerTrace {
        package var geometry: WindowGeometry

        package func pushCotangents(_ delta: Tensor, outputs k: Int) -> Tensor {
            delta.avgPoolAdjoint(geometry.withBatch(geometry.batch * k))
        }
    }
}
