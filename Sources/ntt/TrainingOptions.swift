import ArgumentParser
import Foundation
import NTTRuns

/// The supervised settings as flags (one place that turns flags into a `TrainConfig`).
struct TrainingOptions: ParsableArguments {
    @OptionGroup var network: NetworkOptions
    @OptionGroup var ntkSap: NtkSapOptions
    @Option(help: "Epochs.") var epochs = 50
    @Option(help: "Iterations (overrides --epochs).") var iterations: Int?
    @Option(help: "Batch size.") var batchSize = 64
    @Option(help: "Optimizer: adam or sgd.") var optimizer: TrainConfig.OptimizerKind = .adam
    @Option(name: .customLong("lr"), help: "Learning rate.") var learningRate: Float = 1e-3
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(help: "L2 coefficient λ on masked weights.") var weightDecay: Float = 1e-8
    @Option(help: "Learning-rate schedule: constant, cosine or step.") var schedule: TrainConfig.Schedule = .constant
    @Option(help: "Evaluate accuracy every this many iterations.") var evaluateEvery = 100

    func config(data: DataOptions) -> TrainConfig {
        var c = TrainConfig()
        c.model = network.model; c.dataset = data.dataset; c.dataDirectory = data.dataDir
        c.density = network.density; c.seed = network.seed; c.prune = network.prune
        c.ntkSapResamples = ntkSap.ntkSapResamples
        c.epochs = epochs; c.iterations = iterations; c.batchSize = batchSize; c.optimizer = optimizer
        c.learningRate = learningRate; c.momentum = momentum; c.weightDecay = weightDecay
        c.schedule = schedule; c.evaluateEvery = evaluateEvery
        return c
    }
}
