import NTTKernels
import NTTLayers

/// Random pruning: a uniformly random mask at exact density (per layer or overall), seeded.
public enum RandomPruner {
    public static func masks(shapes: [[Int]], density: Double, scope: PruningScope, seed: UInt64) -> [Tensor] {
        // Random scores + exact top-k = a uniformly random subset of exactly round(d·n).
        var rng = SeededRandom(seed: seed, stream: "prune.random")
        let scores = shapes.map { s in
            Tensor(shape: s, scalars: (0..<s.reduce(1, *)).map { _ in Float(rng.nextUniform()) })
        }
        return MaskSelection.masks(scores: scores, density: density, scope: scope)
    }

    /// Scaled random: the same masks, weights multiplied by 1/√d so that the expected squared
    /// norm of each unit's input weights matches the dense initialisation.
    public static func scaled(_ parameters: [LayerParameters], density: Double) -> [LayerParameters] {
        let scale = Float(1 / density.squareRoot())
        return parameters.map { p in LayerParameters(weight: withoutDerivatives { p.weight * scale }, bias: p.bias) }
    }
}
