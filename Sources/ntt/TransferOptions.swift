import ArgumentParser
import Foundation
import NTTRuns

/// The transfer's settings as flags (one place that turns flags into a `TransferConfig`).
struct TransferOptions: ParsableArguments {
    @OptionGroup var network: NetworkOptions
    @Option(help: "Epochs over the training split.") var epochs = 20
    @Option(help: "Iterations (overrides --epochs).") var iterations: Int?
    @Option(help: "Unlabelled inputs per iteration (split into two halves for the NTK).") var batchSize = 64
    @Option(name: .customLong("lr"), help: "Learning rate.") var learningRate: Float = 5e-4
    @Option(help: "Optimizer: adam (as the paper) or sgd (plain, the original code's other choice).")
    var optimizer: TrainConfig.OptimizerKind = .adam
    @Option(help: "Weight λ_K of the NTK distance.") var lambdaKernel: Float = 1e-3
    @Option(help: "Weight λ₂ of the L2 term (default: 1e-4 for MLPs, 1e-5 for CNNs).") var lambdaL2: Float?
    @Option(help: "Re-prune by magnitude every this many iterations.") var maskUpdateEvery = 100
    @Option(help: "Record probe metrics every this many iterations.") var recordEvery = 100
    @Option(help: "Initial mask: magnitude or logit-snip.") var initMask: TransferConfig.InitialMask = .magnitude
    @Option(help: "NTK scope: effective (w⊙m, as the original) or surviving (unpruned weights only).")
    var kernelScope: KernelScope = .effective
    @Option(help: ArgumentHelp("What a step does to pruned (masked-out) weights.", discussion: PrunedUpdates.help))
    var prunedUpdates: PrunedUpdates = .momentum

    func config(data: DataOptions) -> TransferConfig {
        var c = TransferConfig()
        c.model = network.model; c.dataset = data.dataset; c.dataDirectory = data.dataDir
        c.density = network.density; c.seed = network.seed; c.epochs = epochs; c.iterations = iterations
        c.batchSize = batchSize; c.learningRate = learningRate; c.optimizer = optimizer; c.lambdaKernel = lambdaKernel
        c.lambdaL2 = lambdaL2; c.maskUpdateEvery = maskUpdateEvery; c.recordEvery = recordEvery
        c.prune = network.prune.scope(for: nil); c.initialMask = initMask; c.kernelScope = kernelScope
        c.prunedUpdates = prunedUpdates
        return c
    }
}
