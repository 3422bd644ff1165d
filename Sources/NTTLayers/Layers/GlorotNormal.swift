import NTTKernels

/// JAX stax's initialisation of a dense or conv layer: weights Glorot-normal (variance scaling 1,
/// fan_avg, normal truncated at ±2σ with σ corrected for the truncation), biases normal(0.01).
/// Conv fans include the receptive field: fan_in = kh·kw·cin, fan_out = kh·kw·cout.
enum GlorotNormal {
    /// Parameters of the given shapes for the `index`-th parametrised layer, from the streams
    /// "init.layers.{index}.weight" and ".bias" of `seed`.
    static func parameters(_ shapes: (weight: [Int], bias: [Int]), seed: UInt64, index: Int) -> LayerParameters {
        let w = shapes.weight
        let receptive = w.dropLast(2).reduce(1, *)
        let fanIn = Double(w[w.count - 2] * receptive), fanOut = Double(w[w.count - 1] * receptive)
        // 0.87962566103423978 = std of a standard normal truncated to [−2, 2].
        let std = (1.0 / ((fanIn + fanOut) / 2)).squareRoot() / 0.87962566103423978
        var rng = SeededRandom(seed: seed, stream: "init.layers.\(index).weight")
        let weights = (0..<w.reduce(1, *)).map { _ in Float(rng.nextTruncatedNormal() * std) }
        var biasRNG = SeededRandom(seed: seed, stream: "init.layers.\(index).bias")
        let biases = (0..<shapes.bias[0]).map { _ in Float(biasRNG.nextNormal() * 0.01) }
        return LayerParameters(weight: Tensor(shape: w, scalars: weights),
                               bias: Tensor(shape: shapes.bias, scalars: biases))
    }
}
