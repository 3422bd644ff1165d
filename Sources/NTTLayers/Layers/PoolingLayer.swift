import NTTAutodiff
import NTTKernels

/// A pooling layer: no parameters, and its output shape comes from its `PoolingWindow`.
package protocol PoolingLayer: LayerRule {
    var pooling: PoolingWindow { get }
    init(pooling: PoolingWindow)
}

extension PoolingLayer {
    package init(window: Window, stride: Window, padding: Padding) {
        self.init(pooling: PoolingWindow(window: window, stride: stride, padding: padding))
    }

    package func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int] {
        try pooling.outputShape(forInput: shape)
    }

    package func parameterShapes(forInput shape: [Int]) -> (weight: [Int], bias: [Int])? { nil }
}
