import Foundation
import NeuralTangentTransfer

/// The cells as independent commands and Slurm job arrays (`DIR/plan`).
public struct ExperimentPlan {
    let layout: ExperimentLayout
    let cells: [ExperimentCell]
    let executable: String

    public init(layout: ExperimentLayout, cells: [ExperimentCell], executable: String) {
        self.layout = layout; self.cells = cells; self.executable = executable
    }

    /// Writes `plan/` and returns a few lines saying what is there.
    public func write() throws -> String {
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
        lines += "# (the last \(dependent.count)) need their transfer cell (the first \(transfers.count)) "
            + "finished first.\n"
        lines += "# Finished cells exit at once; a cell that another process is running refuses to start twice.\n"
        lines += cells.map(command).joined(separator: "\n") + "\n"
        try AtomicFile.writeText(lines, to: layout.plan.appendingPathComponent("commands.txt").path)

        var submit = "#!/usr/bin/env bash\n"
            + "# Submits the experiment's cells as Slurm job arrays; ntt training cells wait for the transfers.\n"
        submit += "set -euo pipefail\ncd \"$(dirname \"$0\")\"\n"
        submit += "mkdir -p \(Self.quote(logs))  # Slurm opens the tasks' --output files there before they start\n"
        if !independent.isEmpty { submit += "sbatch --parsable train.sbatch\n" }
        if !transfers.isEmpty {
            try script(name: "transfer", cells: transfers, hours: 12)
            submit += "transfer=$(sbatch --parsable transfer.sbatch)\n"
            if !dependent.isEmpty {
                submit += "sbatch --parsable --dependency=afterok:\"$transfer\" train-ntt.sbatch\n"
            }
        }
        if !independent.isEmpty { try script(name: "train", cells: independent, hours: 4) }
        if !dependent.isEmpty { try script(name: "train-ntt", cells: dependent, hours: 4) }
        try writeExecutable(submit, "submit.sh")
        let transferScript = transfers.isEmpty ? "" : "transfer.sbatch (\(transfers.count) tasks), "
        let trainScript = independent.isEmpty ? "" : "train.sbatch (\(independent.count) tasks)"
        let trainNTTScript = dependent.isEmpty
            ? "" : ", train-ntt.sbatch (\(dependent.count) tasks, after the transfers)"
        return """
        wrote \(layout.plan.path):
          commands.txt   \(cells.count) independent commands (run them with any launcher, e.g. xargs -P, GNU parallel)
          submit.sh      submits \(transferScript)\(trainScript)\(trainNTTScript)
        then aggregate with: ntt report \(root)
        """
    }

    private func script(name: String, cells: [ExperimentCell], hours: Int) throws {
        var s = "#!/usr/bin/env bash\n"
        s += "#SBATCH --job-name=ntt-\(name)\n#SBATCH --array=0-\(cells.count - 1)\n#SBATCH --cpus-per-task=2\n"
        s += "#SBATCH --mem=4G\n#SBATCH --time=\(hours):00:00\n"
        s += "#SBATCH --output=\(layout.logs.standardizedFileURL.path)/slurm-\(name)-%A_%a.log\n"
        s += "# One cell per array task, into the shared experiment folder. Set NTT to the ntt binary on the cluster.\n"
        s += "set -euo pipefail\nNTT=\"${NTT:-\(executable)}\"\ncells=(\n"
        s += cells.map { "  " + Self.quote($0.id) }.joined(separator: "\n") + "\n)\n"
        s += "exec \"$NTT\" experiment --out \(Self.quote(layout.root.standardizedFileURL.path))"
            + " --cell \"${cells[$SLURM_ARRAY_TASK_ID]}\" --threads \"${SLURM_CPUS_PER_TASK:-2}\"\n"
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
