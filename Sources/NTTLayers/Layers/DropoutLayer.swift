import NTTKernels

/// Zeroes each element with probability `rate` during training and scales the survivors by
/// 1/(1−rate); the identity at evaluation, which is the only mode a traced (NTK) pass has.
/// The mask comes from the stream "dropout.layers.{position}" of the step's dropout seed.
package struct DropoutLayer: LayerRule {
    package var rate: Double

    package init(rate: Double) { self.rate = rate }

    package func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int] { shape }

    package func parameterShapes(forInput shape: [Int]) -> (weight: [Int], bias: [Int])? { nil }

    package func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor {
        guard let seed = dropoutSeed, rate > 0 else { return x }
        var rng = SeededRandom(seed: seed, stream: "dropout.layers.\(position)")
        let keep = Float(1 / (1 - rate))
        let mask = (0..<x.count).map { _ in rng.nextUniform() < rate ? Float(0) : keep }
        return x * Tensor(shape: x.shape, scalars: mask)
    }

    package func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace) {
        (x, Trace())
    }

    /// The identity's trace: cotangents pass unchanged.
    package struct Trace: LayerTrace {
        package func pushCotangents(_ delta: Tensor, outputs k: Int) -> Tensor { delta }
    }
}
