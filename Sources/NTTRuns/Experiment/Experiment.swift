import Foundation
import NeuralTangentTransfer

/// An experiment folder and its grid: runs the unfinished cells (as child processes of
/// `executable`, see `CellScheduler`) or writes them as a plan, then reports.
public struct Experiment {
    public let layout: ExperimentLayout
    public let config: ExperimentConfig

    /// Opens (or starts) the experiment in `root`. With `requested` nil the grid stored there is
    /// continued; otherwise the stored grid, if any, must equal `requested`. Writes
    /// `experiment.json` for a new experiment.
    public init(root: URL, requested: ExperimentConfig?) throws {
        let layout = ExperimentLayout(root: root)
        let stored = try layout.storedConfig()
        let grid: ExperimentConfig
        if let requested {
            try requested.validate()
            if let stored, stored != requested {
                throw NTTError("\(layout.config.path) describes a different experiment; re-run with the same settings "
                               + "(or just --out) to continue it, or choose another --out")
            }
            grid = requested
        } else {
            grid = stored ?? ExperimentConfig()
        }
        try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
        if stored == nil { try RunFolder(layout.root).writeJSON(grid, to: layout.config.lastPathComponent) }
        self.layout = layout
        self.config = grid
    }

    /// Writes `plan/` (commands and Slurm scripts) and returns what it wrote.
    public func plan(executable: String) throws -> String {
        try ExperimentPlan(layout: layout, cells: config.cells, executable: executable).write()
    }

    /// What a run of the grid left.
    public struct Outcome {
        /// Cells that failed (with their dependants).
        public var failures: Int
        /// Cells not run because of the time limit (not started, or stopped at it).
        public var leftByTimeLimit: Int
        public var report: ExperimentReport
    }

    /// Runs the unfinished cells, `jobs` at once with `threads` split between them, then writes
    /// the report (also after a stop request, from what finished). With `timeLimit` (seconds),
    /// only cells expected to finish within it are started, and running ones are stopped when it
    /// is up (see `CellScheduler`). While cells run, a status line per running cell follows
    /// every `statusInterval` seconds without other news.
    public func run(jobs: Int, threads: Int, executable: String, stop: StopFlag, timeLimit: Double? = nil,
                    statusInterval: Double = 600, say: @escaping (String) -> Void) throws -> Outcome {
        guard jobs >= 1 else { throw NTTError("--jobs must be at least 1, got \(jobs)") }
        guard threads >= 1 else { throw NTTError("--threads must be at least 1, got \(threads)") }
        let scheduler = CellScheduler(layout: layout, cells: config.cells, jobs: jobs,
                                      threadsPerJob: max(1, threads / jobs),
                                      executable: executable, stop: stop,
                                      deadline: timeLimit.map { Date().addingTimeInterval($0) },
                                      statusInterval: statusInterval, say: say)
        let failures = try scheduler.run()
        let report = try ExperimentReport(root: layout.root)
        try report.write()
        return Outcome(failures: failures, leftByTimeLimit: scheduler.left, report: report)
    }
}
