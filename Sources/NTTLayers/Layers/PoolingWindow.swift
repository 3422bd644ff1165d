import NTTAutodiff
import NTTKernels

/// The window, stride and padding of a pooling layer, and what they give: the output shape
/// (checked) and the geometry of a batch.
package struct PoolingWindow: Sendable, Hashable {
    package var window: Window
    package var stride: Window
    package var padding: Padding

    package func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int] {
        let g = try WindowGeometry.checked(perSample: shape, window: window, stride: stride, padding: padding)
        return [g.outHeight, g.outWidth, shape[2]]
    }

    /// The geometry of a batch `input` [N, H, W, C].
    package func geometry(_ input: [Int]) -> WindowGeometry {
        WindowGeometry(input: input, window: window, stride: stride, padding: padding)
    }
}
