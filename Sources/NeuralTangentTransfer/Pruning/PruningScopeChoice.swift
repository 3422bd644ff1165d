/// The pruning scope a user asks for: each method's own (`native`, the default), or the same
/// scope for every method. `native` is what the authors' reference code does: layer-wise for NTT,
/// random, scaled random and magnitude (the NTT code); global for SNIP, logit-SNIP, GraSP,
/// SynFlow and NTK-SAP.
public enum PruningScopeChoice: String, Sendable, Codable, CaseIterable {
    case native, layerwise, global

    /// The scope used for `method` (nil: NTT's transfer).
    public func scope(for method: PruningMethod?) -> PruningScope {
        switch self {
        case .layerwise: return .layerwise
        case .global: return .global
        case .native: return method?.nativeScope ?? .layerwise
        }
    }
}

extension PruningMethod {
    /// The scope of the method's reference code.
    public var nativeScope: PruningScope {
        switch self {
        case .snip, .logitSnip, .grasp, .synflow, .ntkSap: return .global
        case .random, .scaledRandom, .magnitude, .dense: return .layerwise
        }
    }
}
