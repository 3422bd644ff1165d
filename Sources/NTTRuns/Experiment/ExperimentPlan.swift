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
        let dense = cells.filter { $0.kind == .train && $0.initialization.isDense }
        let baselines = cells.filter { $0.kind == .train && !$0.initialization.isDense && $0.dependency == nil }
        let dependent = cells.filter { $0.dependency != nil }
        var lines = "# \(cells.count) cells of \(root), in the order they may run: the \(transfers.count) transfers "
            + "and the \(dense.count) dense\n# cells first (independent), then the \(baselines.count) baseline cells "
            + "(each needs the dense cell of its seed, its\n# reference, when the grid has one), then the "
            + "\(dependent.count) ntt training cells (each also needs its transfer).\n"
        lines += "# Finished cells exit at once; a cell that another process is running refuses to start twice.\n"
        lines += (transfers + dense + baselines + dependent).map(command).joined(separator: "\n") + "\n"
        try AtomicFile.writeText(lines, to: layout.plan.appendingPathComponent("commands.txt").path)

        var submit = "#!/usr/bin/env bash\n# Submits the experiment's cells as Slurm job arrays; sparse training "
            + "cells wait for the dense cells\n# (their references), ntt training cells for the transfers too.\n"
        submit += "set -euo pipefail\ncd \"$(dirname \"$0\")\"\n"
        submit += "mkdir -p \(Self.quote(logs))  # Slurm opens the tasks' --output files there before they start\n"
        var after: [String] = []
        if !dense.isEmpty {
            try script(name: "train-dense", cells: dense, hours: 4)
            submit += "dense=$(sbatch --parsable train-dense.sbatch)\n"
            after.append("\"$dense\"")
        }
        if !baselines.isEmpty {
            try script(name: "train", cells: baselines, hours: 4)
            let dependency = after.isEmpty ? "" : " --dependency=afterok:" + after.joined(separator: ":")
            submit += "sbatch --parsable\(dependency) train.sbatch\n"
        }
        if !transfers.isEmpty {
            try script(name: "transfer", cells: transfers, hours: 12)
            submit += "transfer=$(sbatch --parsable transfer.sbatch)\n"
            if !dependent.isEmpty {
                try script(name: "train-ntt", cells: dependent, hours: 4)
                submit += "sbatch --parsable --dependency=afterok:"
                    + (["\"$transfer\""] + after).joined(separator: ":") + " train-ntt.sbatch\n"
            }
        }
        try writeExecutable(submit, "submit.sh")
        func array(_ name: String, _ list: [ExperimentCell], _ note: String = "") -> String? {
            list.isEmpty ? nil : "\(name).sbatch (\(list.count) tasks\(note))"
        }
        let arrays = [array("train-dense", dense), array("transfer", transfers),
                      array("train", baselines, dense.isEmpty ? "" : ", after the dense cells"),
                      array("train-ntt", dependent,
                            ", after the transfers" + (dense.isEmpty ? "" : " and the dense cells"))].compactMap { $0 }
        return """
        wrote \(layout.plan.path):
          commands.txt   \(cells.count) commands, one per cell, dependencies first (run them in that order)
          submit.sh      submits \(arrays.joined(separator: ", "))
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
