import NeuralTangentTransfer

/// Settings of a prune run: a pruning-at-init method applied to a fresh initialisation.
public struct PruneConfig: Codable, Sendable, Equatable {
    public var method: PruningMethod
    public var model: String = "lenet-300-100"
    public var dataset: String = DatasetName.fashionMNIST.rawValue
    public var dataDirectory: String? = nil
    public var density: Double = 0.03
    public var seed: UInt64 = 0
    /// Each method's own scope by default.
    public var prune: PruningScopeChoice = .native
    /// `ntk-sap`'s fresh draws of θ per round (the reference's `--ntksap_R`).
    public var ntkSapResamples: Int = NtkSapPruner.defaultResamples

    public init(method: PruningMethod) { self.method = method }

    public func validate() throws(NTTError) {
        guard density > 0 && density <= 1 else { throw NTTError("--density must be in (0, 1], got \(density)") }
        try NtkSapPruner.checkResamples(ntkSapResamples)
    }
}
