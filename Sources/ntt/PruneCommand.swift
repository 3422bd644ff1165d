import ArgumentParser
import Foundation
import NTTRuns

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a fresh initialisation with a pruning-at-init method and write it (init.safetensors).")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Method: \(PruningMethod.names).") var method: PruningMethod
    @Option(help: ArgumentHelp("Model: \(ModelSpec.builtinNames.joined(separator: ", ")), "
                               + "or a spec such as 'dense(300),relu,dense(10)'."))
    var model = "lenet-300-100"
    @Option(help: "Fraction of weights kept, in (0, 1].") var density = 0.03
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Pruning scope: layerwise or global.") var prune: PruningScope = .layerwise

    func run() throws {
        var c = PruneConfig(method: method)
        c.model = model; c.dataset = data.dataset; c.dataDirectory = data.dataDir
        c.density = density; c.seed = seed; c.prune = prune
        let run = try PruneRun(config: c)
        let dataset = try data.load()
        let folder = try output.create()
        let (sparse, weights) = try compute.run { try run.run(dataset: dataset, folder: folder) }
        print("kept per layer: " + zip(sparse.keptPerLayer, weights).map { "\($0)/\($1)" }.joined(separator: ", "))
        print("wrote \(folder.file(PruneRun.outputName).path)")
    }
}
