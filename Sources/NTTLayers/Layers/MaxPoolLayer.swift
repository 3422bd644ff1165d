import NTTKernels

/// Max over NHWC windows; the derivative goes to the first maximal element of each window in
/// row-major order (as XLA), so the traced pass keeps the argmax positions and the cotangent
/// push scatters each row (sample, output) through its sample's positions.
package struct MaxPoolLayer: PoolingLayer {
    package var pooling: PoolingWindow

    package init(pooling: PoolingWindow) { self.pooling = pooling }

    /// relu then max-pool equals max-pool then relu, in value and in derivative: both are exact
    /// and relu is monotone, so the window's first maximum is the same element whenever it is
    /// positive, and the derivative is 0 otherwise either way. After the pool, relu touches a
    /// quarter of the elements for 2×2 windows.
    package var commutesWithReLU: Bool { true }

    package func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor {
        x.maxPool(pooling.geometry(x.shape)).value
    }

    package func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace) {
        let g = pooling.geometry(x.shape)
        let (pooled, indices) = x.maxPool(g)
        return (pooled, Trace(indices: indices, inputShape: x.shape))
    }

    /// The flat argmax positions within the [n, H, W, C] input.
    package struct Trace: LayerTrace {
        package var indices: [Int32]
        package var inputShape: [Int]

        /// Row (i, a) scattered through sample i's argmax positions (rows shared out to threads).
        package func pushCotangents(_ delta: Tensor, outputs k: Int) -> Tensor {
            let n = inputShape[0]
            let layout = Pooling.ArgmaxLayout(images: n, imageSize: inputShape.dropFirst().reduce(1, *),
                                              outPerImage: indices.count / n, repeats: k)
            return delta.maxPoolAdjoint(indices, layout).reshaped([n * k] + inputShape.dropFirst())
        }

        /// Δ at the pool's output with the argmax positions, for the kernel term of the layer
        /// before the pool.
        package func poolCotangents(_ delta: Tensor) -> PoolCotangents {
            PoolCotangents(values: delta, argmax: indices, inputShape: inputShape)
        }
    }
}
