import ArgumentParser
import Foundation
import NeuralTangentTransfer
#if canImport(Glibc)
import Glibc
#endif

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
    @Option(parsing: .upToNextOption, help: "Models: built-in names or specs (default: lenet-300-100).") var models: [String] = []
    @Option(parsing: .upToNextOption, help: "Datasets (default: fashion-mnist).") var datasets: [String] = []
    @Option(help: "Data folder for every dataset in the grid (or use data_directories in --config).") var dataDir: String?
    @Option(parsing: .upToNextOption, help: "Densities (default: 0.01 0.03 0.1).") var densities: [Double] = []
    @Option(parsing: .upToNextOption, help: "Initialisations: ntt and pruning methods (default: ntt random snip dense).")
    var initializations: [String] = []
    @Option(parsing: .upToNextOption, help: "Seeds (default: 0 1 2).") var seeds: [UInt64] = []
    @Option(help: "Pruning scope: layerwise or global (default: layerwise).") var prune: PruningScope?
    @Option(help: "Transfer epochs (default: 20).") var transferEpochs: Int?
    @Option(help: "Transfer iterations (overrides --transfer-epochs).") var transferIterations: Int?
    @Option(help: "Training epochs (default: 50).") var trainEpochs: Int?
    @Option(help: "Training iterations (overrides --train-epochs).") var trainIterations: Int?
    @Option(help: "Evaluate test accuracy every this many training iterations (default: 100).") var evaluateEvery: Int?
    @Option(help: "Cells run at once.") var jobs = 1
    @Option(help: "Threads in all (split between jobs; default: the number of cores).") var threads: Int?
    @Flag(help: "Write the cell commands and Slurm scripts into DIR/plan instead of running.") var plan = false
    @Option(help: .hidden) var cell: String?  // run one cell in this process (used by the scheduler and by plans)

    var gridFlagsGiven: Bool {
        !models.isEmpty || !datasets.isEmpty || dataDir != nil || !densities.isEmpty || !initializations.isEmpty || !seeds.isEmpty
            || prune != nil || transferEpochs != nil || transferIterations != nil || trainEpochs != nil || trainIterations != nil
            || evaluateEvery != nil
    }

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if config != nil && gridFlagsGiven { throw ValidationError("--config and grid flags (--models, --densities, …) cannot be combined") }
    }

    /// The grid from --config or the flags, with defaults for what is not given.
    func requestedConfig() throws -> ExperimentConfig {
        if let config { return try ExperimentConfig.load(config) }
        var c = ExperimentConfig()
        if !models.isEmpty { c.models = models }
        if !datasets.isEmpty { c.datasets = datasets }
        if let dataDir { c.dataDirectories = ["*": dataDir] }
        if !densities.isEmpty { c.densities = densities }
        if !initializations.isEmpty { c.initializations = initializations }
        if !seeds.isEmpty { c.seeds = seeds }
        if let prune { c.prune = prune }
        if let transferEpochs { c.transferEpochs = transferEpochs }
        c.transferIterations = transferIterations
        if let trainEpochs { c.trainEpochs = trainEpochs }
        c.trainIterations = trainIterations
        if let evaluateEvery { c.evaluateEvery = evaluateEvery }
        try c.validate()
        return c
    }

    func run() throws {
        let layout = ExperimentLayout(root: URL(fileURLWithPath: out))
        if let cell {
            try CellRunner(layout: layout, threads: threads).run(cellID: cell)
            return
        }
        let stored = try layout.storedConfig()
        let grid: ExperimentConfig
        if let stored, !gridFlagsGiven && config == nil {
            grid = stored  // `ntt experiment --out DIR` continues the experiment stored there
        } else {
            grid = try requestedConfig()
            if let stored, stored != grid {
                throw NTTError("\(layout.config.path) describes a different experiment; re-run with the same settings (or just --out) to continue it, or choose another --out")
            }
        }
        try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
        if stored == nil { try AtomicFile.write(try ExperimentConfig.encoder.encode(grid), to: layout.config.path) }
        if plan {
            try ExperimentPlan(layout: layout, cells: grid.cells, executable: Self.executablePath).write()
            return
        }
        StopFlag.installSignalHandlers()
        let total = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let scheduler = CellScheduler(layout: layout, cells: grid.cells, jobs: jobs, threadsPerJob: max(1, total / jobs),
                                      executable: Self.executablePath)
        let failures = try scheduler.run()
        let report = try ExperimentReport(root: layout.root)
        try report.write()
        print(report.accuracyTable())
        print("report: \(layout.root.appendingPathComponent("report.html").path) (and report.md, results.csv, results.json)")
        if StopFlag.interrupt.isSet {
            print("interrupted; run the same command again to continue (finished cells are kept)")
            throw ExitCode(130)
        }
        if failures > 0 { throw NTTError("\(failures) cell(s) failed; see the logs in \(layout.logs.path); re-run to retry them") }
    }

    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// Runs one cell in this process: a transfer (resumed from its checkpoint if one exists) or
/// a training run (restarted if unfinished). Holds the cell's lock throughout; writes
/// `done.json` last.
struct CellRunner {
    let layout: ExperimentLayout
    let threads: Int?

    func run(cellID: String) throws { try ComputeOptionsValues(threads: threads).run { try runCell(cellID) } }

    private func runCell(_ cellID: String) throws {
        guard let grid = try layout.storedConfig() else { throw NTTError("\(layout.root.path) is not an experiment folder (no experiment.json)") }
        guard let cell = grid.cells.first(where: { $0.id == cellID }) else {
            throw NTTError("--cell '\(cellID)' is not a cell of \(layout.config.path)")
        }
        if layout.isFinished(cell) { print("\(cell.id): already finished"); return }
        guard let lock = try CellLock(layout.lock(cell)) else { throw NTTError("\(cell.id) is being run by another process") }
        defer { _ = lock }
        let folder = layout.folder(cell)
        let dataDirectory = grid.dataDirectory(for: cell.dataset)
        let dataset = try DatasetLoader.load(cell.dataset, dataDirectory: dataDirectory)
        switch cell.kind {
        case .transfer:
            StopFlag.installSignalHandlers()  // checkpoint on SIGINT/SIGTERM; training cells just stop
            var c = TransferConfig()
            c.model = cell.model; c.dataset = cell.dataset; c.dataDirectory = dataDirectory
            c.density = cell.density; c.seed = cell.seed; c.prune = grid.prune
            c.epochs = grid.transferEpochs; c.iterations = grid.transferIterations
            let resume = FileManager.default.fileExists(atPath: folder.appendingPathComponent("checkpoint.safetensors").path)
            if !resume { try Self.fresh(folder) }
            let transfer = try TransferRun(config: c, dataset: dataset, directory: folder)
            let bar = ProgressBar(total: transfer.totalIterations, label: cell.id)
            let start = Date()
            let outcome = try transfer.run(resume: resume) { bar.update($0.iteration, status: String(format: "ntk %.4g", $0.ntkDistance)) }
            bar.finish()
            guard outcome == .finished else { print("interrupted; checkpoint saved"); throw ExitCode(130) }
            let records = try JSONLines.decode(TransferRecord.self, from: Data(contentsOf: folder.appendingPathComponent("metrics.jsonl")))
            let student = try SparseInitialization.load(folder.path, model: transfer.model)
            var result = CellResult(cell: cell, iterations: records.last?.iteration ?? 0, seconds: Date().timeIntervalSince(start),
                                    keptPerLayer: student.keptPerLayer,
                                    weightsPerLayer: transfer.model.parameterShapes.map { $0.weight.reduce(1, *) })
            result.ntkDistanceBefore = records.first?.ntkDistance; result.ntkDistanceAfter = records.last?.ntkDistance
            result.targetDistanceBefore = records.first?.targetDistance; result.targetDistanceAfter = records.last?.targetDistance
            try result.write(to: layout.done(cell))
        case .train:
            try Self.fresh(folder)
            var source = cell.initialization
            if let dependency = cell.dependency {
                guard layout.isFinished(dependency) else { throw NTTError("\(cell.id) needs the transfer cell \(dependency.id), which has not finished") }
                source = layout.folder(dependency).path
            }
            var arguments = ["--dataset", cell.dataset]
            if let dataDirectory { arguments += ["--data-dir", dataDirectory] }
            let settings = InitializationSettings(model: cell.model, density: cell.density, seed: cell.seed, prune: grid.prune)
            let outcome = try TrainCommand.train(initialization: source, options: settings, data: try DataOptions.parse(arguments),
                                                 directory: folder, dataset: dataset, label: cell.id) { t in
                t.epochs = grid.trainEpochs; t.iterations = grid.trainIterations; t.evaluateEvery = grid.evaluateEvery
            }
            var result = CellResult(cell: cell, iterations: outcome.record.iteration, seconds: outcome.seconds,
                                    keptPerLayer: outcome.kept, weightsPerLayer: outcome.weights)
            result.testAccuracy = outcome.record.testAccuracy; result.trainAccuracy = outcome.record.trainAccuracy
            try result.write(to: layout.done(cell))
        }
        print(String(format: "%@: finished", cell.id))
    }

    /// An empty folder for the cell (a leftover from an unfinished attempt is removed).
    static func fresh(_ folder: URL) throws {
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }
}

