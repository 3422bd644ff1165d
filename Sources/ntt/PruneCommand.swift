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
    @Option(help: "Method: \(PruningMethod.names).") var method: String
    @OptionGroup var network: NetworkOptions
    @OptionGroup var ntkSap: NtkSapOptions

    func run() throws {
        var c = PruneConfig(method: try PruningMethod.parse(method, flag: "--method"))
        c.model = network.model; c.dataset = data.dataset; c.dataDirectory = data.dataDir
        c.density = network.density; c.seed = network.seed; c.prune = network.prune
        c.ntkSapResamples = ntkSap.ntkSapResamples
        let run = try PruneRun(config: c)
        let dataset = try data.load()
        let folder = try output.create()
        let (sparse, weights) = try compute.run { try run.run(dataset: dataset, folder: folder) }
        print("kept per layer: " + zip(sparse.keptPerLayer, weights).map { "\($0)/\($1)" }.joined(separator: ", "))
        print("wrote \(folder.file(PruneRun.outputName).path)")
    }
}
