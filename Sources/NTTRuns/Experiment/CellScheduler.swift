import Foundation
import NeuralTangentTransfer
#if canImport(Glibc)
import Glibc
#endif

/// Runs an experiment's unfinished cells as child processes (`ntt experiment --cell`), up to
/// `jobs` at once, each cell after the cells it depends on (its transfer, its dense reference).
/// Cells locked by another process (an earlier, killed scheduler's orphan, or another machine) are
/// waited for, not duplicated. Progress lines go to `say` as they happen; a raised `stop` is passed
/// on to the running cells once (transfers checkpoint, training cells stop and are redone next time).
///
/// With a `deadline`, a cell is started only if the mean time of its kind (from the cells
/// finished so far, those of earlier runs included) ends before it, so that short cells fill the
/// time left and none is started only to be killed; at the deadline the running cells are
/// stopped as by `stop`. Cells left that way, and those that need them, are counted in `left`.
///
/// When nothing has been said for `statusInterval` seconds while cells run, one line per running
/// cell repeats the last progress line of its log, so that a long cell (a CNN transfer takes an
/// hour or more) shows that it is alive and when it should end.
public final class CellScheduler {
    let layout: ExperimentLayout
    let cells: [ExperimentCell]
    let jobs: Int
    let threadsPerJob: Int
    let executable: String
    let stop: StopFlag
    let deadline: Date?
    let statusInterval: TimeInterval
    let say: (String) -> Void
    /// After `run`: cells not run because of the deadline (not started, or stopped at it).
    public private(set) var left = 0

    public init(layout: ExperimentLayout, cells: [ExperimentCell], jobs: Int, threadsPerJob: Int, executable: String,
                stop: StopFlag, deadline: Date? = nil, statusInterval: TimeInterval = 600,
                say: @escaping (String) -> Void) {
        self.layout = layout; self.cells = cells; self.jobs = jobs; self.threadsPerJob = threadsPerJob
        self.executable = executable; self.stop = stop; self.deadline = deadline
        self.statusInterval = statusInterval; self.say = say
    }

    private var lastSaid = Date()

    private func tell(_ line: String) {
        lastSaid = Date()
        say(line)
    }

    private struct Running { let cell: ExperimentCell; let process: Process; let started: Date }

    /// Returns the number of cells that failed (their dependants are counted too).
    public func run() throws -> Int {
        let grid = Set(cells)
        var pending = cells.filter { !layout.isFinished($0) }
        let skipped = cells.count - pending.count
        tell("experiment \(layout.root.path): \(cells.count) cells, \(skipped) already finished, "
            + "\(pending.count) to run, \(jobs) at a time")
        try FileManager.default.createDirectory(at: layout.logs, withIntermediateDirectories: true)
        var running: [Running] = []
        var failed: Set<ExperimentCell> = []
        var deferred: Set<ExperimentCell> = []
        var finished = skipped
        var times = CellTimes()
        // Earlier runs' cells time the kinds from the start (for the estimates and the deadline).
        for cell in cells where layout.isFinished(cell) {
            if let result = try? CellResult.read(layout.done(cell)) { times.add(cell.kind, seconds: result.seconds) }
        }
        var stopForwarded = false
        var deadlinePassed = false

        while !pending.isEmpty || !running.isEmpty {
            if let deadline, !deadlinePassed, Date() >= deadline {
                deadlinePassed = true
                tell("time limit reached: stopping \(running.count) running cell(s)")
                deferred.formUnion(pending)
                deferred.formUnion(running.map(\.cell))
            }
            if stop.isSet || deadlinePassed {
                // Each cell process has its own process group (Foundation's Process does that),
                // so a Ctrl-C reaches only us: pass it on once. Transfers checkpoint and exit;
                // training cells stop and are redone next time.
                if !stopForwarded {
                    pending.removeAll()
                    for r in running where r.process.isRunning { kill(r.process.processIdentifier, SIGTERM) }
                    stopForwarded = true
                }
            }
            // Reap.
            let ended = running.filter { !$0.process.isRunning }  // one look, so none ends unreaped
            for r in ended {
                if r.process.terminationStatus == 0 && layout.isFinished(r.cell) {
                    finished += 1
                    let result = try? CellResult.read(layout.done(r.cell))
                    // The cell's own count: a resumed transfer's includes its time before the stop.
                    let seconds = result?.seconds ?? Date().timeIntervalSince(r.started)
                    times.add(r.cell.kind, seconds: seconds)
                    let summary = result.map(Self.summary) ?? ""
                    let others = running.filter { $0.process.processIdentifier != r.process.processIdentifier }
                    // Cells left for a later run by the time limit still count.
                    let left = times.estimate(remaining: pending + others.map(\.cell)
                                              + deferred.subtracting(others.map(\.cell)), jobs: jobs)
                    tell(String(format: "[%d/%d] %@ done %@ (%.0f s; %@)", finished, cells.count, r.cell.id,
                               summary, seconds, left))
                } else if stop.isSet || deadlinePassed {
                    tell("\(r.cell.id): stopped")
                } else if r.process.terminationStatus == CellRunner.busyExitCode {
                    pending.append(r.cell)  // another process took the cell first: wait for it
                } else {
                    failed.insert(r.cell)
                    let lastLine = Self.lastLine(of: layout.log(r.cell))
                    tell("\(r.cell.id): FAILED (exit \(r.process.terminationStatus)): \(lastLine)")
                }
            }
            let endedIDs = Set(ended.map(\.process.processIdentifier))
            running.removeAll { endedIDs.contains($0.process.processIdentifier) }
            // Launch what is ready.
            var index = 0
            while running.count < jobs && index < pending.count && !stop.isSet && !deadlinePassed {
                let cell = pending[index]
                let dependencies = cell.dependencies(in: grid)
                if let deadline, dependencies.contains(where: deferred.contains)
                    || !times.fits(cell.kind, within: deadline.timeIntervalSinceNow) {
                    deferred.insert(cell)  // time only runs out: it would not fit later either
                    pending.remove(at: index)
                    continue
                }
                if let dependency = dependencies.first(where: failed.contains) {
                    failed.insert(cell)
                    tell("\(cell.id): skipped, \(dependency.id), which it needs, failed")
                    pending.remove(at: index)
                    continue
                }
                let dependencyReady = dependencies.allSatisfy(layout.isFinished)
                if layout.isFinished(cell) {  // finished meanwhile by another process
                    finished += 1
                    pending.remove(at: index)
                } else if dependencyReady && !FileLock.isHeld(layout.lock(cell)) {
                    running.append(Running(cell: cell, process: try launch(cell), started: Date()))
                    pending.remove(at: index)
                } else {
                    index += 1
                }
            }
            if !running.isEmpty && Date().timeIntervalSince(lastSaid) >= statusInterval {
                let now = Date()
                for r in running {
                    // The progress line names the cell itself: said once, first.
                    let progress = Self.lastLine(of: layout.log(r.cell), tail: 4096, orElse: "no output yet")
                        .replacingOccurrences(of: r.cell.id + " ", with: "")
                    tell("  \(r.cell.id), running \(TimeText.clock(now.timeIntervalSince(r.started))): \(progress)")
                }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        left = deferred.filter { !layout.isFinished($0) }.count
        if left > 0 && !deadlinePassed {
            tell("time limit: \(left) cell(s) left that would not finish before it")
        }
        return failed.count
    }

    private func launch(_ cell: ExperimentCell) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["experiment", "--out", layout.root.path, "--cell", cell.id,
                             "--threads", String(threadsPerJob)]
        let log = layout.log(cell)
        // Appended, never truncated: another process may be writing this cell's log right now.
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        do { try process.run() } catch { throw NTTError("cannot start \(executable): \(error.localizedDescription)") }
        try? handle.close()
        return process
    }

    static func summary(_ r: CellResult) -> String {
        if let a = r.testAccuracy { return String(format: "test %.2f%%", a * 100) }
        if let before = r.ntkDistanceBefore, let after = r.ntkDistanceAfter {
            return String(format: "NTK distance %.4g → %.4g", before, after)
        }
        return ""
    }

    /// The last non-empty line of a log (progress bars end their lines with a carriage return),
    /// trimmed, or `empty` if it has none; with `tail`, only that many bytes at its end are read.
    static func lastLine(of url: URL, tail: Int? = nil, orElse empty: String? = nil) -> String {
        var data = Data()
        if let handle = try? FileHandle(forReadingFrom: url) {
            defer { try? handle.close() }
            if let tail, let end = try? handle.seekToEnd(), end > UInt64(tail) {
                try? handle.seek(toOffset: end - UInt64(tail))
            }
            data = (try? handle.readToEnd()) ?? Data()
        }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.last(where: { !$0.isEmpty })
            ?? empty ?? "(no output; see \(url.path))"
    }
}
