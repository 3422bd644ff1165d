import Foundation
import NeuralTangentTransfer
#if canImport(Glibc)
import Glibc
#endif

/// Runs an experiment's unfinished cells as child processes (`ntt experiment --cell`), up to
/// `jobs` at once, each cell after the transfer it depends on. Cells locked by another process
/// (an earlier, killed scheduler's orphan, or another machine) are waited for, not duplicated.
final class CellScheduler {
    let layout: ExperimentLayout
    let cells: [ExperimentCell]
    let jobs: Int
    let threadsPerJob: Int
    let executable: String

    init(layout: ExperimentLayout, cells: [ExperimentCell], jobs: Int, threadsPerJob: Int, executable: String) {
        self.layout = layout; self.cells = cells; self.jobs = jobs; self.threadsPerJob = threadsPerJob; self.executable = executable
    }

    private struct Running { let cell: ExperimentCell; let process: Process; let started: Date }

    /// Returns the number of cells that failed (their dependants are counted too).
    func run() throws -> Int {
        var pending = cells.filter { !layout.isFinished($0) }
        let skipped = cells.count - pending.count
        Self.say("experiment \(layout.root.path): \(cells.count) cells, \(skipped) already finished, \(pending.count) to run, \(jobs) at a time")
        try FileManager.default.createDirectory(at: layout.logs, withIntermediateDirectories: true)
        var running: [Running] = []
        var failed: Set<ExperimentCell> = []
        var finished = skipped
        var secondsSpent = 0.0, cellsTimed = 0
        var stopForwarded = false

        while !pending.isEmpty || !running.isEmpty {
            if StopFlag.interrupt.isSet {
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
                let seconds = Date().timeIntervalSince(r.started)
                if r.process.terminationStatus == 0 && layout.isFinished(r.cell) {
                    finished += 1
                    secondsSpent += seconds; cellsTimed += 1
                    let result = try? CellResult.read(layout.done(r.cell))
                    let summary = result.map(Self.summary) ?? ""
                    let remaining = Double(pending.count + running.count - 1) * secondsSpent / Double(cellsTimed) / Double(jobs)
                    Self.say(String(format: "[%d/%d] %@ done %@ (%.0f s; about %@ left)", finished, cells.count, r.cell.id, summary,
                                 seconds, ProgressBar.duration(remaining)))
                } else if StopFlag.interrupt.isSet {
                    Self.say("\(r.cell.id): stopped")
                } else {
                    failed.insert(r.cell)
                    Self.say("\(r.cell.id): FAILED (exit \(r.process.terminationStatus)): \(Self.lastLine(of: layout.log(r.cell)))")
                }
            }
            let endedIDs = Set(ended.map(\.process.processIdentifier))
            running.removeAll { endedIDs.contains($0.process.processIdentifier) }
            // Launch what is ready.
            var index = 0
            while running.count < jobs && index < pending.count && !StopFlag.interrupt.isSet {
                let cell = pending[index]
                if let dependency = cell.dependency, failed.contains(dependency) {
                    failed.insert(cell)
                    Self.say("\(cell.id): skipped, its transfer \(dependency.id) failed")
                    pending.remove(at: index)
                    continue
                }
                let dependencyReady = cell.dependency.map(layout.isFinished) ?? true
                if layout.isFinished(cell) {  // finished meanwhile by another process
                    finished += 1
                    pending.remove(at: index)
                } else if dependencyReady && !CellLock.isHeld(layout.lock(cell)) {
                    running.append(Running(cell: cell, process: try launch(cell), started: Date()))
                    pending.remove(at: index)
                } else {
                    index += 1
                }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return failed.count
    }

    private func launch(_ cell: ExperimentCell) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["experiment", "--out", layout.root.path, "--cell", cell.id, "--threads", String(threadsPerJob)]
        let log = layout.log(cell)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        do { try process.run() } catch { throw NTTError("cannot start \(executable): \(error.localizedDescription)") }
        try? handle.close()
        return process
    }

    /// A line on stdout now (not when a pipe's buffer fills), so logs show progress as it happens.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func summary(_ r: CellResult) -> String {
        if let a = r.testAccuracy { return String(format: "test %.2f%%", a * 100) }
        if let before = r.ntkDistanceBefore, let after = r.ntkDistanceAfter {
            return String(format: "NTK distance %.4g → %.4g", before, after)
        }
        return ""
    }

    static func lastLine(of url: URL) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).last.map(String.init) ?? "(no output; see \(url.path))"
    }
}

/// The cells as independent commands and Slurm job arrays (`DIR/plan`).
struct ExperimentPlan {
    let layout: ExperimentLayout
    let cells: [ExperimentCell]
    let executable: String

    func write() throws {
        try FileManager.default.createDirectory(at: layout.plan, withIntermediateDirectories: true)
        // Slurm opens each task's --output (in logs/) before the script runs, and a task whose
        // output cannot be opened fails at once (and its dependants never start): the folder must
        // exist at submit time. Created here and again by submit.sh, for plans copied elsewhere.
        try FileManager.default.createDirectory(at: layout.logs, withIntermediateDirectories: true)
        let root = layout.root.standardizedFileURL.path
        let logs = layout.logs.standardizedFileURL.path
        func command(_ c: ExperimentCell) -> String {
            "\(Self.quote(executable)) experiment --out \(Self.quote(root)) --cell \(Self.quote(c.id))"
        }
        let transfers = cells.filter { $0.kind == .transfer }
        let independent = cells.filter { $0.kind == .train && $0.dependency == nil }
        let dependent = cells.filter { $0.dependency != nil }
        var lines = "# \(cells.count) cells of \(root). Each line is independent, except that the ntt training cells\n"
        lines += "# (the last \(dependent.count)) need their transfer cell (the first \(transfers.count)) finished first.\n"
        lines += "# Finished cells exit at once; a cell that another process is running refuses to start twice.\n"
        lines += cells.map(command).joined(separator: "\n") + "\n"
        try AtomicFile.writeText(lines, to: layout.plan.appendingPathComponent("commands.txt").path)

        var submit = "#!/usr/bin/env bash\n# Submits the experiment's cells as Slurm job arrays; ntt training cells wait for the transfers.\n"
        submit += "set -euo pipefail\ncd \"$(dirname \"$0\")\"\n"
        submit += "mkdir -p \(Self.quote(logs))  # Slurm opens the tasks' --output files there before they start\n"
        if !independent.isEmpty { submit += "sbatch --parsable train.sbatch\n" }
        if !transfers.isEmpty {
            try script(name: "transfer", cells: transfers, hours: 12)
            submit += "transfer=$(sbatch --parsable transfer.sbatch)\n"
            if !dependent.isEmpty { submit += "sbatch --parsable --dependency=afterok:\"$transfer\" train-ntt.sbatch\n" }
        }
        if !independent.isEmpty { try script(name: "train", cells: independent, hours: 4) }
        if !dependent.isEmpty { try script(name: "train-ntt", cells: dependent, hours: 4) }
        try writeExecutable(submit, "submit.sh")
        print("""
        wrote \(layout.plan.path):
          commands.txt   \(cells.count) independent commands (run them with any launcher, e.g. xargs -P, GNU parallel)
          submit.sh      submits \(transfers.isEmpty ? "" : "transfer.sbatch (\(transfers.count) tasks), ")\(independent.isEmpty ? "" : "train.sbatch (\(independent.count) tasks)")\(dependent.isEmpty ? "" : ", train-ntt.sbatch (\(dependent.count) tasks, after the transfers)")
        then aggregate with: ntt report \(root)
        """)
    }

    private func script(name: String, cells: [ExperimentCell], hours: Int) throws {
        var s = "#!/usr/bin/env bash\n"
        s += "#SBATCH --job-name=ntt-\(name)\n#SBATCH --array=0-\(cells.count - 1)\n#SBATCH --cpus-per-task=2\n"
        s += "#SBATCH --mem=4G\n#SBATCH --time=\(hours):00:00\n"
        s += "#SBATCH --output=\(layout.logs.standardizedFileURL.path)/slurm-\(name)-%A_%a.log\n"
        s += "# One cell per array task, into the shared experiment folder. Set NTT to the ntt binary on the cluster.\n"
        s += "set -euo pipefail\nNTT=\"${NTT:-\(executable)}\"\ncells=(\n"
        s += cells.map { "  " + Self.quote($0.id) }.joined(separator: "\n") + "\n)\n"
        s += "exec \"$NTT\" experiment --out \(Self.quote(layout.root.standardizedFileURL.path)) --cell \"${cells[$SLURM_ARRAY_TASK_ID]}\" --threads \"${SLURM_CPUS_PER_TASK:-2}\"\n"
        try writeExecutable(s, name + ".sbatch")
    }

    private func writeExecutable(_ text: String, _ file: String) throws {
        let path = layout.plan.appendingPathComponent(file).path
        try AtomicFile.writeText(text, to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    /// Single-quoted for POSIX shells.
    static func quote(_ s: String) -> String {
        if s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
