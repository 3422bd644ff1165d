import NeuralTangentTransfer

/// Every setting of a supervised run: what it starts from and how it trains. Written to
/// `config.json` as one flat object (the training settings' keys plus `initialization`).
public struct TrainingRunConfig: Codable, Sendable, Equatable {
    public var initialization: Initialization
    public var training: TrainConfig

    public init(initialization: Initialization, training: TrainConfig = TrainConfig()) {
        self.initialization = initialization; self.training = training
    }

    enum Key: CodingKey { case initialization }

    public init(from decoder: Decoder) throws {
        training = try TrainConfig(from: decoder)
        initialization = try decoder.container(keyedBy: Key.self).decode(Initialization.self, forKey: .initialization)
    }

    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(initialization, forKey: .initialization)
    }

    public func validate() throws { try training.validate() }
}
