/// [N, H, W, C] → [N, H·W·C] in NHWC order (a view); the cotangent push views the rows back.
package struct FlattenLayer: LayerRule {
    package init() {}

    package func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int] { [shape.reduce(1, *)] }

    package func parameterShapes(forInput shape: [Int]) -> (weight: [Int], bias: [Int])? { nil }

    package func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor {
        let n = x.shape[0]
        return x.reshaped([n, x.count / max(n, 1)])
    }

    package func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace) {
        (apply(x, parameters: nil, position: 0, dropoutSeed: nil), Trace(inputShape: x.shape))
    }

    /// The [n, …] input shape.
    package struct Trace: LayerTrace {
        package var inputShape: [Int]

        package func pushCotangents(_ delta: Tensor, outputs k: Int) -> Tensor {
            delta.reshaped([inputShape[0] * k] + inputShape.dropFirst())
        }
    }
}
