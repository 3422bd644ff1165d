import ArgumentParser
import Foundation
import NTTRuns

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The main job: NTT vs random, SNIP and dense on Fashion-MNIST with LeNet-300-100 at 3% density.",
        discussion: """
        Runs a transfer, then supervised training from the ntt, random, snip and dense \
        initialisations, prints a comparison table and writes a report folder (summary.json, \
        summary.md and every run's files). The defaults (the paper's 20 transfer epochs, 25 training \
        epochs) take about five minutes on two cores; --full trains for the paper's 50 epochs.
        """)

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @Option(help: "Report folder (default: runs/demo, or runs/demo-2, -3, … if that exists).") var out: String?
    @Flag(help: "Replace the report folder if it exists.") var overwrite = false
    @Option(help: "Model.") var model = "lenet-300-100"
    @Option(help: "Fraction of weights kept.") var density = 0.03
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Transfer epochs (default 20, the paper's).") var transferEpochs: Int?
    @Option(help: "Training epochs per initialisation (default 25; --full: 50).") var trainEpochs: Int?
    @Option(help: "Transfer iterations (overrides --transfer-epochs; for quick checks).") var transferIterations: Int?
    @Option(help: "Training iterations (overrides --train-epochs; for quick checks).") var trainIterations: Int?
    @Flag(help: "The paper's training budget: 50 epochs per initialisation.") var full = false
    @Option(parsing: .upToNextOption, help: "Initialisations to compare with ntt.")
    var baselines: [String] = ["random", "snip", "dense"]

    func run() throws {
        let stop = SignalHandlers.install()
        var c = DemoConfig()
        c.transfer.model = model; c.transfer.dataset = data.dataset; c.transfer.dataDirectory = data.dataDir
        c.transfer.density = density; c.transfer.seed = seed
        c.transfer.epochs = transferEpochs ?? 20; c.transfer.iterations = transferIterations
        c.trainEpochs = trainEpochs ?? (full ? 50 : 25); c.trainIterations = trainIterations
        c.baselines = try baselines.map { try PruningMethod.parse($0, flag: "--baselines") }
        let run = try DemoRun(config: c)
        print("loading \(data.dataset) …")
        let dataset = try data.load()
        let folder = try RunFolder.create(URL(fileURLWithPath: out ?? Self.freshDefaultFolder()), overwrite: overwrite)
        var bar: ProgressBar? = nil
        let summary = try compute.run {
            try run.run(dataset: dataset, folder: folder, stop: stop) { event in
                switch event {
                case .transfer(let p):
                    if bar == nil { bar = ProgressBar(total: p.total, label: "transfer") }
                    bar?.update(p.iteration, status: String(format: "ntk %.4g", p.ntkDistance))
                case .training(let name, let p):
                    if bar == nil { bar = ProgressBar(total: p.total, label: name) }
                    bar?.update(p.iteration,
                                status: p.testAccuracy.map { String(format: "test %.2f%%", $0 * 100) } ?? "")
                case .finished:
                    bar?.finish()
                    bar = nil
                }
            }
        }
        guard let summary else {
            bar?.finish()
            throw NTTError("interrupted; the partial demo is in \(folder.path)")
        }
        print("\n" + summary.markdown)
        print("report: \(folder.file("summary.md").path)")
    }

    /// runs/demo, or the first of runs/demo-2, runs/demo-3, … that does not exist, so running
    /// the demo again never fails and never replaces an earlier report.
    static func freshDefaultFolder() -> String {
        var candidate = "runs/demo", n = 1
        while FileManager.default.fileExists(atPath: candidate) { n += 1; candidate = "runs/demo-\(n)" }
        return candidate
    }
}
