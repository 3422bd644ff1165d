import NTTKernels

/// Mean over NHWC windows (with `same` padding, over in-image elements only). Linear, so its
/// cotangent push is its adjoint over the n·k cotangent images.
package struct AvgPoolLayer: LayerRule {
    package var window: Window
    package var stride: Window
    package var padding: Padding

    package init(window: Window, stride: Window, padding: Padding) {
        self.window = window; self.stride = stride; self.padding = padding
    }

    package func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int] {
        let g = try WindowGeometry.checked(perSample: shape, window: window, stride: stride, padding: padding)
        return [g.outHeight, g.outWidth, shape[2]]
    }

    package func parameterShapes(forInput shape: [Int]) -> (weight: [Int], bias: [Int])? { nil }

    package func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor {
        x.avgPool(WindowGeometry(input: x.shape, window: window, stride: stride, padding: padding))
    }

    package func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace) {
        let g = WindowGeometry(input: x.shape, window: window, stride: stride, padding: padding)
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
