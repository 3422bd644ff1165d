import ArgumentParser
import Foundation
import NeuralTangentTransfer

struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Label-free transfer: find a sparse initialisation whose outputs and NTK match a dense teacher's.",
        discussion: """
        Writes into --out: config.json, metrics.jsonl (probe metrics every --record-every iterations), \
        student.safetensors (masked weights, biases, masks), teacher.safetensors, probe.safetensors. \
        An interrupted run (Ctrl-C, SIGTERM) checkpoints and continues with --resume.
        """)

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Model: \(ModelSpec.builtinNames.joined(separator: ", ")), or a spec such as 'dense(300),relu,dense(10)'.")
    var model = "lenet-300-100"
    @Option(help: "Fraction of weights kept, in (0, 1].") var density = 0.03
    @Option(help: "Random seed (teacher init, data order, splits).") var seed: UInt64 = 0
    @Option(help: "Epochs over the training split.") var epochs = 20
    @Option(help: "Iterations (overrides --epochs).") var iterations: Int?
    @Option(help: "Unlabelled inputs per iteration (split into two halves for the NTK).") var batchSize = 64
    @Option(name: .customLong("lr"), help: "Adam learning rate.") var learningRate: Float = 5e-4
    @Option(help: "Weight λ_K of the NTK distance.") var lambdaKernel: Float = 1e-3
    @Option(help: "Weight λ₂ of the L2 term (default: 1e-4 for MLPs, 1e-5 for CNNs).") var lambdaL2: Float?
    @Option(help: "Re-prune by magnitude every this many iterations.") var maskUpdateEvery = 100
    @Option(help: "Record probe metrics every this many iterations.") var recordEvery = 100
    @Option(help: "Pruning scope: layerwise or global.") var prune: PruningScope = .layerwise
    @Option(help: "Initial mask: magnitude or logit-snip.") var initMask: TransferConfig.InitialMask = .magnitude
    @Option(help: "NTK scope: effective (w⊙m, as the original) or surviving (unpruned weights only).") var kernelScope: KernelScope = .effective
    @Flag(help: "Continue an interrupted run in --out (same settings).") var resume = false
    @Option(help: .hidden) var stopAfter: Int?  // testing: behave as if interrupted after this iteration

    func run() throws { try compute.run(work) }

    private func work() throws {
        StopFlag.installSignalHandlers()
        var c = TransferConfig()
        c.model = model; c.dataset = data.dataset; c.dataDirectory = data.dataDir
        c.density = density; c.seed = seed; c.epochs = epochs; c.iterations = iterations
        c.batchSize = batchSize; c.learningRate = learningRate; c.lambdaKernel = lambdaKernel
        c.lambdaL2 = lambdaL2; c.maskUpdateEvery = maskUpdateEvery; c.recordEvery = recordEvery
        c.prune = prune; c.initialMask = initMask; c.kernelScope = kernelScope
        try c.validate()
        let dataset = try data.load()
        let directory = try output.prepare(resume: resume)
        let run = try TransferRun(config: c, dataset: dataset, directory: directory)
        let bar = ProgressBar(total: run.totalIterations, label: "transfer")
        let start = Date()
        var first = Double.nan
        var last = Double.nan
        let outcome = try run.run(resume: resume, stopAfter: stopAfter) { p in
            if first.isNaN { first = p.ntkDistance }
            last = p.ntkDistance
            bar.update(p.iteration, status: String(format: "ntk %.4g", p.ntkDistance))
        }
        bar.finish()
        switch outcome {
        case .finished:
            print(String(format: "done in %.1f s: NTK distance on the probe %.4g → %.4g; results in %@",
                         Date().timeIntervalSince(start), first, last, directory.path))
        case .interrupted(let t):
            print("interrupted after iteration \(t); state saved. Continue with the same command plus --resume.")
            throw ExitCode(130)
        }
    }
}

extension PruningScope: ExpressibleByArgument {}
extension KernelScope: ExpressibleByArgument {}
extension TransferConfig.InitialMask: ExpressibleByArgument {}
