import NTTLayers

/// Magnitude pruning: score |w|.
public enum MagnitudePruner {
    public static func masks(weights: [Tensor], density: Double, scope: PruningScope) -> [Tensor] {
        MaskSelection.masks(scores: weights.map { Tensor(shape: $0.shape, scalars: $0.scalars.map(abs)) },
                            density: density, scope: scope)
    }
}
