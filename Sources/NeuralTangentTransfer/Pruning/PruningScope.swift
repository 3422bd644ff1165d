import NTTLayers

/// Whether a density budget applies to each layer separately or to all weights together.
public enum PruningScope: String, Sendable, Codable, CaseIterable {
    /// Every layer keeps round(d·nₗ) of its nₗ weights.
    case layerwise
    /// One threshold over all layers: round(d·Σnₗ) weights kept in total.
    case global
}
