import Foundation
import NeuralTangentTransfer

/// What a run resolved from its settings, recorded beside them in `config.json`.
public struct RunInfo: Codable, Sendable, Equatable {
    public var resolvedModel: String
    public var keptPerLayer: [Int]?
    public var weightsPerLayer: [Int]?
    public var totalIterations: Int?
    public var lambdaL2Effective: Double?
    /// The scope a pruning method's masks were chosen in (its own with `prune: native`).
    public var pruneScope: PruningScope?
    /// A training run's distances to its dense network at the start (`InitialDistance`).
    public var initialDistance: InitialDistance?
    /// With `--reference`: the comparison before the first iteration (`ProbeComparison`).
    public var initialComparison: ProbeComparison?
    public var toolVersion: String = NTTVersion.current

    public init(resolvedModel: String, keptPerLayer: [Int]? = nil, weightsPerLayer: [Int]? = nil,
                totalIterations: Int? = nil, lambdaL2Effective: Double? = nil, pruneScope: PruningScope? = nil) {
        self.resolvedModel = resolvedModel; self.keptPerLayer = keptPerLayer; self.weightsPerLayer = weightsPerLayer
        self.totalIterations = totalIterations; self.lambdaL2Effective = lambdaL2Effective
        self.pruneScope = pruneScope
    }
}
