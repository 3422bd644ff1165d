import ArgumentParser
import Foundation
import NTTRuns

struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run a grid of models × datasets × densities × initialisations × seeds, then write a report.",
        discussion: """
        Each cell (a transfer run, or a supervised run from one initialisation) runs in its own \
        process and folder, cells/<model>/<dataset>/<cell>; a cell is finished when its done.json \
        exists. Re-running the same command skips finished cells, resumes interrupted transfers \
        from their checkpoints and redoes unfinished training cells, so an interrupted experiment \
        continues where it stopped. Transfer runs are shared by the ntt training cells of the same \
        model, dataset, density and seed. --plan writes the cells as independent commands and \
        Slurm job-array scripts instead of running them; `ntt report DIR` aggregates finished cells \
        from any number of machines.
        """)

    @Option(help: "Experiment folder.") var out: String
    @Option(help: "JSON file with the grid (keys as in experiment.json; not combined with the grid flags below).")
    var config: String?
    @Option(parsing: .upToNextOption, help: "Models: built-in names or specs (default: lenet-300-100).")
    var models: [String] = []
    @Option(parsing: .upToNextOption, help: "Datasets (default: fashion-mnist).") var datasets: [String] = []
    @Option(help: "Data folder for every dataset in the grid (or use data_directories in --config).")
    var dataDir: String?
    @Option(parsing: .upToNextOption, help: "Densities (default: 0.01 0.03 0.1).") var densities: [Double] = []
    @Option(parsing: .upToNextOption,
            help: "Initialisations: \(InitializationMethod.names) (default: ntt random snip dense).")
    var initializations: [String] = []
    @Option(parsing: .upToNextOption, help: "Seeds (default: 0 1 2).") var seeds: [UInt64] = []
    @Option(help: "Pruning scope: native (each method's own), layerwise or global (default: native).")
    var prune: PruningScopeChoice?
    @Option(help: ArgumentHelp(NtkSapOptions.help)) var ntkSapResamples: Int?
    @Option(help: "Transfer epochs (default: 20).") var transferEpochs: Int?
    @Option(help: "Transfer iterations (overrides --transfer-epochs).") var transferIterations: Int?
    @Option(help: "Training epochs (default: 50).") var trainEpochs: Int?
    @Option(help: "Training iterations (overrides --train-epochs).") var trainIterations: Int?
    @Option(help: "Evaluate test accuracy every this many training iterations (default: 100).") var evaluateEvery: Int?
    @Option(help: "Cells run at once.") var jobs = 1
    @Option(help: ArgumentHelp("""
        Start only cells expected to finish within this time (e.g. 2h30m, 90m, 1:30:00; \
        estimated from the finished cells of the same kind), and stop the running ones when it is \
        up (transfers checkpoint); exits with status 75 if cells are left. For a session or a Slurm \
        allocation with a wall-clock limit.
        """, valueName: "duration"))
    var timeLimit: String?
    @Option(help: ArgumentHelp("""
        While cells run, print the last progress line of each running cell after this long \
        without other output (e.g. 10m, 30s).
        """, valueName: "duration"))
    var statusEvery = "10m"
    @OptionGroup var compute: ComputeOptions
    @Flag(help: "Write the cell commands and Slurm scripts into DIR/plan instead of running.") var plan = false
    @Option(help: .hidden) var cell: String?  // run one cell in this process (used by the scheduler and by plans)

    var gridFlagsGiven: Bool {
        !models.isEmpty || !datasets.isEmpty || dataDir != nil || !densities.isEmpty || !initializations.isEmpty
            || !seeds.isEmpty || prune != nil || ntkSapResamples != nil || transferEpochs != nil
            || transferIterations != nil || trainEpochs != nil || trainIterations != nil || evaluateEvery != nil
    }

    /// The grid from --config or the flags (defaults for what is not given); nil to continue the stored one.
    func requestedConfig() throws -> ExperimentConfig? {
        if config != nil && gridFlagsGiven {
            throw NTTError("--config and grid flags (--models, --densities, …) cannot be combined")
        }
        if let config { return try ExperimentConfig.load(config) }
        guard gridFlagsGiven || !ExperimentLayout(root: URL(fileURLWithPath: out)).hasConfig else { return nil }
        var c = ExperimentConfig()
        if !models.isEmpty { c.models = models }
        if !datasets.isEmpty { c.datasets = datasets }
        if let dataDir { c.dataDirectories = ["*": dataDir] }
        if !densities.isEmpty { c.densities = densities }
        if !initializations.isEmpty {
            c.initializations = try initializations.map {
                try InitializationMethod.parse($0, flag: "--initializations")
            }
        }
        if !seeds.isEmpty { c.seeds = seeds }
        if let prune { c.prune = prune }
        if let ntkSapResamples { c.ntkSapResamples = ntkSapResamples }
        if let transferEpochs { c.transferEpochs = transferEpochs }
        c.transferIterations = transferIterations
        if let trainEpochs { c.trainEpochs = trainEpochs }
        c.trainIterations = trainIterations
        if let evaluateEvery { c.evaluateEvery = evaluateEvery }
        return c
    }

    func run() throws {
        let root = URL(fileURLWithPath: out)
        let limit = try timeLimit.map { try TimeText.seconds(parsing: $0, flag: "--time-limit") }
        let statusInterval = try TimeText.seconds(parsing: statusEvery, flag: "--status-every")
        if limit != nil && (plan || cell != nil) {
            throw NTTError("--time-limit cannot be combined with \(plan ? "--plan" : "--cell")")
        }
        if let cell {
            let stop = SignalHandlers.install()  // transfers checkpoint on SIGINT/SIGTERM, training stops
            var bar: ProgressBar? = nil
            let outcome = try compute.run {
                try CellRunner(layout: ExperimentLayout(root: root)).run(cellID: cell, stop: stop) { p in
                    if bar == nil { bar = ProgressBar(total: p.total, label: p.cell) }
                    bar?.update(p.iteration, status: p.status)
                }
            }
            bar?.finish()
            switch outcome {
            case .alreadyFinished: print("\(cell): already finished")
            case .busy:
                print("\(cell) is being run by another process")
                throw ExitCode(CellRunner.busyExitCode)
            case .finished: print("\(cell): finished")
            case .interrupted(let checkpointed):
                print(checkpointed ? "interrupted; checkpoint saved"
                      : "interrupted; nothing kept (a training cell starts again on the next run)")
                throw ExitCode(130)
            }
            return
        }
        let experiment = try Experiment(root: root, requested: try requestedConfig())
        if plan {
            print(try experiment.plan(executable: Self.executablePath))
            return
        }
        let stop = SignalHandlers.install()
        let outcome = try experiment.run(jobs: jobs, threads: compute.budget, executable: Self.executablePath,
                                         stop: stop, timeLimit: limit, statusInterval: statusInterval) {
            FileHandle.standardOutput.write(Data(($0 + "\n").utf8))  // now, not when a pipe's buffer fills
        }
        print(outcome.report.accuracyTable())
        print("report: \(root.appendingPathComponent("report.html").path) (and report.md, results.csv, results.json)")
        if stop.isSet {
            print("interrupted; run the same command again to continue (finished cells are kept)")
            throw ExitCode(130)
        }
        if outcome.leftByTimeLimit > 0 {
            print("time limit: \(outcome.leftByTimeLimit) cell(s) left; run the same command again to continue "
                  + "(finished cells are kept)")
            if outcome.failures > 0 {
                print("\(outcome.failures) cell(s) failed; see the logs in \(experiment.layout.logs.path)")
            }
            throw ExitCode(75)
        }
        if outcome.failures > 0 {
            throw NTTError("\(outcome.failures) cell(s) failed; see the logs in \(experiment.layout.logs.path); "
                           + "re-run to retry them")
        }
    }

    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
