import NeuralTangentTransfer

/// Every setting of a supervised run: what it starts from and how it trains. Written to
/// `config.json` as one flat object (the training settings' keys plus `initialization` and,
/// when set, `reference`).
public struct TrainingRunConfig: Codable, Sendable, Equatable {
    public var initialization: Initialization
    public var training: TrainConfig
    /// A (dense) training run, or its `probe-outputs.safetensors`, to compare this run's outputs with
    /// at every evaluation (`--reference`); it must have trained in lockstep (`ProbeOutputs.Fingerprint`).
    public var reference: String?

    public init(initialization: Initialization, training: TrainConfig = TrainConfig(), reference: String? = nil) {
        self.initialization = initialization; self.training = training; self.reference = reference
    }

    enum Key: CodingKey { case initialization, reference }

    public init(from decoder: Decoder) throws {
        training = try TrainConfig(from: decoder)
        let c = try decoder.container(keyedBy: Key.self)
        initialization = try c.decode(Initialization.self, forKey: .initialization)
        reference = try c.decodeIfPresent(String.self, forKey: .reference)
    }

    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(initialization, forKey: .initialization)
        try c.encodeIfPresent(reference, forKey: .reference)
    }

    public func validate() throws { try training.validate() }
}
