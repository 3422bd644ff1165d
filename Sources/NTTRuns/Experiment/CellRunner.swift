import Foundation
import NeuralTangentTransfer

/// Runs one cell of an experiment in this process: a transfer (resumed from its checkpoint if
/// one exists) or a training run (restarted if unfinished). Holds the cell's lock throughout;
/// writes `done.json` last.
public struct CellRunner {
    public let layout: ExperimentLayout

    public init(layout: ExperimentLayout) { self.layout = layout }

    /// The exit status of `ntt experiment --cell` for a cell another process is running
    /// (EX_TEMPFAIL): the scheduler waits for that process instead of counting a failure.
    public static let busyExitCode: Int32 = 75

    /// How a call ended.
    public enum Outcome: Sendable, Equatable {
        case finished(CellResult)
        case alreadyFinished
        /// Another process holds the cell's lock (it is being run there).
        case busy
        /// The cell stopped on request: a transfer has saved its checkpoint, a training cell has
        /// left nothing (it starts again next time).
        case interrupted(checkpointed: Bool)
    }

    public func run(cellID: String, stop: StopFlag? = nil,
                    progress: (CellProgress) -> Void = { _ in }) throws -> Outcome {
        guard let grid = try layout.storedConfig() else {
            throw NTTError("\(layout.root.path) is not an experiment folder (no experiment.json)")
        }
        guard let cell = grid.cells.first(where: { $0.id == cellID }) else {
            throw NTTError("--cell '\(cellID)' is not a cell of \(layout.config.path)")
        }
        if layout.isFinished(cell) { return .alreadyFinished }
        guard let lock = try FileLock(layout.lock(cell)) else { return .busy }
        defer { _ = lock }
        let folder = RunFolder(layout.folder(cell))
        let dataDirectory = grid.dataDirectory(for: cell.dataset)
        let dataset = try DatasetLoader.load(cell.dataset, dataDirectory: dataDirectory)
        switch cell.kind {
        case .transfer:
            var c = TransferConfig()
            c.model = cell.model; c.dataset = cell.dataset; c.dataDirectory = dataDirectory
            c.density = cell.density; c.seed = cell.seed; c.prune = grid.prune.scope(for: nil)
            c.epochs = grid.transferEpochs; c.iterations = grid.transferIterations
            let resume = folder.contains(TransferRun.checkpointName)
            if !resume { try Self.fresh(folder) }
            let transfer = try TransferRun(config: c, dataset: dataset, folder: folder)
            var seconds = 0.0  // of computing, across interruptions
            let outcome = try transfer.run(resume: resume, stop: stop) {
                seconds = $0.seconds
                progress(CellProgress(cell: cell.id, iteration: $0.iteration, total: $0.total,
                                      status: String(format: "ntk %.4g", $0.ntkDistance)))
            }
            guard outcome == .finished else { return .interrupted(checkpointed: true) }
            let records = try transfer.records()
            let student = try ModelCheckpoint.load(folder.file(TransferRun.studentName).path, model: transfer.model)
            var result = CellResult(cell: cell, iterations: records.last?.iteration ?? 0,
                                    seconds: seconds, keptPerLayer: MaskSelection.keptCounts(student.masks ?? []),
                                    weightsPerLayer: transfer.model.parameterShapes.map { $0.weight.reduce(1, *) })
            result.pruneScope = c.prune
            result.ntkDistanceBefore = records.first?.ntkDistance; result.ntkDistanceAfter = records.last?.ntkDistance
            result.targetDistanceBefore = records.first?.targetDistance
            result.targetDistanceAfter = records.last?.targetDistance
            try folder.writeDone(result)
            return .finished(result)
        case .train:
            try folder.removeAll()  // an unfinished attempt's files; the run writes a staging folder and moves it here
            let source: Initialization
            switch cell.initialization {
            case .ntt:
                let dependency = cell.dependency!
                guard layout.isFinished(dependency) else {
                    throw NTTError("\(cell.id) needs the transfer cell \(dependency.id), which has not finished")
                }
                source = .transferRun(layout.folder(dependency).path)
            case .pruning(let method):
                source = .pruning(method)
            }
            var t = TrainConfig()
            t.model = cell.model; t.dataset = cell.dataset; t.dataDirectory = dataDirectory
            t.density = cell.density; t.seed = cell.seed; t.prune = grid.prune
            t.ntkSapResamples = grid.ntkSapResamples
            t.epochs = grid.trainEpochs; t.iterations = grid.trainIterations; t.evaluateEvery = grid.evaluateEvery
            // Sparse cells compare their outputs with the dense cell of their seed, trained in lockstep.
            var reference: String? = nil
            if let dense = cell.reference, grid.initializations.contains(where: \.isDense) {
                guard layout.isFinished(dense) else {
                    throw NTTError("\(cell.id) needs the dense cell \(dense.id) (its reference), "
                                   + "which has not finished")
                }
                reference = layout.folder(dense).path
            }
            let run = try TrainingRun(config: TrainingRunConfig(initialization: source, training: t,
                                                                reference: reference))
            let outcome: TrainingRun.Outcome
            do {
                outcome = try run.run(dataset: dataset, folder: folder, stop: stop) { p in
                    progress(CellProgress(cell: cell.id, iteration: p.iteration, total: p.total,
                                          status: p.testAccuracy.map { String(format: "test %.2f%%", $0 * 100) }
                                            ?? ""))
                }
            } catch is Trainer.Stopped {
                return .interrupted(checkpointed: false)  // nothing of the attempt is left; it starts again
            }
            var result = CellResult(cell: cell, iterations: outcome.record.iteration, seconds: outcome.seconds,
                                    keptPerLayer: outcome.keptPerLayer, weightsPerLayer: outcome.weightsPerLayer)
            result.pruneScope = outcome.pruneScope ?? grid.prune.scope(for: nil)
            result.testAccuracy = outcome.record.testAccuracy; result.trainAccuracy = outcome.record.trainAccuracy
            result.initialNtkDistance = outcome.initialDistance?.ntkDistance
            result.initialTargetDistance = outcome.initialDistance?.targetDistance
            result.trajectory = reference == nil ? nil : outcome.trajectory
            try folder.writeDone(result)
            return .finished(result)
        }
    }

    /// An empty folder for the cell (a leftover of an unfinished attempt is removed).
    static func fresh(_ folder: RunFolder) throws {
        try folder.removeAll()
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
    }
}
