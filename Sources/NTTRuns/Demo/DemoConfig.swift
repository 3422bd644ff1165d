import NeuralTangentTransfer

/// Settings of the demo: one transfer, then training from `ntt` and each baseline.
public struct DemoConfig: Codable, Sendable, Equatable {
    public var model: String = "lenet-300-100"
    public var dataset: String = DatasetName.fashionMNIST.rawValue
    public var dataDirectory: String? = nil
    public var density: Double = 0.03
    public var seed: UInt64 = 0
    public var transferEpochs: Int = 20
    public var transferIterations: Int? = nil
    public var trainEpochs: Int = 25
    public var trainIterations: Int? = nil
    public var baselines: [PruningMethod] = [.random, .snip, .dense]

    public init() {}

    public func validate() throws(NTTError) {
        guard density > 0 && density <= 1 else { throw NTTError("--density must be in (0, 1], got \(density)") }
        guard Set(baselines).count == baselines.count else { throw NTTError("--baselines lists a method twice") }
    }

    /// The transfer's settings (the paper's defaults otherwise).
    public var transfer: TransferConfig {
        var c = TransferConfig()
        c.model = model; c.dataset = dataset; c.dataDirectory = dataDirectory; c.density = density; c.seed = seed
        c.epochs = transferEpochs; c.iterations = transferIterations
        return c
    }

    /// The training settings for one initialisation (`dense` trains at density 1).
    public func training(_ initialization: Initialization, dense: Bool) -> TrainingRunConfig {
        var t = TrainConfig()
        t.model = model; t.dataset = dataset; t.dataDirectory = dataDirectory
        t.density = dense ? 1 : density; t.seed = seed
        t.epochs = trainEpochs; t.iterations = trainIterations
        return TrainingRunConfig(initialization: initialization, training: t)
    }
}
