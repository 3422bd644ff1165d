import NeuralTangentTransfer

/// Settings of the demo: one transfer (its model, data, density and seed are the demo's), then
/// training from `ntt` and each baseline for the same budget.
public struct DemoConfig: Codable, Sendable, Equatable {
    /// The transfer; SPEC §2 defaults (LeNet-300-100, d = 0.03, the paper's 20 epochs).
    public var transfer = TransferConfig()
    public var trainEpochs: Int = 25
    public var trainIterations: Int? = nil
    public var baselines: [PruningMethod] = [.random, .snip, .dense]

    public init() {}

    public func validate() throws {
        try transfer.validate()
        guard Set(baselines).count == baselines.count else { throw NTTError("--baselines lists a method twice") }
    }

    /// The training settings for one initialisation (`dense` trains at density 1), compared with
    /// the dense run in `reference` when given.
    public func training(_ initialization: Initialization, dense: Bool, reference: String? = nil) -> TrainingRunConfig {
        var t = TrainConfig()
        t.model = transfer.model; t.dataset = transfer.dataset; t.dataDirectory = transfer.dataDirectory
        t.density = dense ? 1 : transfer.density; t.seed = transfer.seed
        t.epochs = trainEpochs; t.iterations = trainIterations
        t.prune = .layerwise  // the paper's comparison: every method keeps the same count per layer
        return TrainingRunConfig(initialization: initialization, training: t, reference: reference)
    }
}
