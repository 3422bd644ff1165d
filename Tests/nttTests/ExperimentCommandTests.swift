import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ntt experiment`, `--plan` and `ntt report`, run as users run them.
struct ExperimentCommandTests {
    static let grid = ["--models", "dense(16),relu,dense(10)", "--datasets", "synthetic", "--densities", "0.1", "0.2",
                       "--initializations", "ntt", "random", "dense", "--seeds", "0", "1",
                       "--transfer-iterations", "300", "--train-iterations", "300", "--evaluate-every", "100"]
    static let cellCount = 4 + 2 * (1 + 2 * 2)  // transfers; per seed: dense + (ntt, random) × densities

    /// Writes the grid's plan into `root` and returns the ID of the first planned cell whose
    /// command contains `text` (nil: the last cell).
    static func plannedCellID(_ root: String, grid: [String], containing text: String?) throws -> String {
        let plan = try CommandLineTests.run(["experiment", "--out", root, "--plan"] + grid)
        try #require(plan.status == 0, "\(plan.stderr)")
        let commands = try String(contentsOfFile: root + "/plan/commands.txt", encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }
        let command = try #require(text.map { t in commands.first { $0.contains(t) } } ?? commands.last)
        return command.components(separatedBy: "--cell ").last!.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
    }

    static func doneFiles(_ root: String) -> [String: Data] {
        var found: [String: Data] = [:]
        let walker = FileManager.default.enumerator(atPath: root + "/cells")
        while let path = walker?.nextObject() as? String {
            if path.hasSuffix("/done.json") {
                found[path] = FileManager.default.contents(atPath: root + "/cells/" + path)
            }
        }
        return found
    }

    /// The process and all its descendants, found through /proc.
    static func processTree(_ pid: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let p = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[p] = parent }
        }
        var tree = [pid], frontier = [pid]
        while let p = frontier.popLast() {
            for (child, parent) in parents where parent == p { tree.append(child); frontier.append(child) }
        }
        return tree
    }

    @Test func killedExperimentResumesWithoutRedoingOrCorruptingCells() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/exp"
        let process = Process()
        process.executableURL = CommandLineTests.executable
        process.arguments = ["experiment", "--out", root, "--jobs", "2"] + Self.grid
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Generous: a loaded machine can take minutes for five cells; a quiet one takes seconds.
        let deadline = Date().addingTimeInterval(600)
        while Self.doneFiles(root).count < 5 && Date() < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
        }
        // Pull the plug on the scheduler and every cell it runs, as a crash would.
        for pid in Self.processTree(process.processIdentifier) { kill(pid, SIGKILL) }
        process.waitUntilExit()
        let before = Self.doneFiles(root)
        #expect(before.count >= 5 && before.count < Self.cellCount, "\(before.count) cells finished before the kill")

        let again = try CommandLineTests.run(["experiment", "--out", root, "--jobs", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("\(Self.cellCount) cells, \(before.count) already finished"), "\(again.stdout)")
        let after = Self.doneFiles(root)
        #expect(after.count == Self.cellCount)
        for (path, data) in before { #expect(after[path] == data, "\(path) was redone") }
        // Every cell is whole: transfers have their results and no checkpoint, trainings a model and a final record.
        for path in after.keys {
            let folder = root + "/cells/" + (path as NSString).deletingLastPathComponent
            if folder.contains("/transfer-") {
                for f in ["student.safetensors", "teacher.safetensors", "probe.safetensors"] {
                    #expect(FileManager.default.fileExists(atPath: folder + "/" + f))
                }
                #expect(!FileManager.default.fileExists(atPath: folder + "/checkpoint.safetensors"))
            } else {
                #expect(FileManager.default.fileExists(atPath: folder + "/model.safetensors"))
                let metrics = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8)
                    .split(separator: "\n")
                #expect(metrics.count == 3 && metrics.last!.contains("\"final\":true"))
                // Sparse cells ran against the dense cell of their seed (lockstep), from iteration 0 on.
                let result = try JSONSerialization.jsonObject(with: after[path]!) as? [String: Any] ?? [:]
                let trajectory = (result["trajectory"] as? [[String: Any]])?.compactMap { $0["iteration"] as? Int }
                if folder.contains("/train-dense-") {
                    #expect(trajectory == nil && result["initial_ntk_distance"] as? Double == 0)
                } else {
                    #expect(result["initial_ntk_distance"] as? Double ?? 0 > 0)
                    #expect(trajectory == [0, 100, 200, 300], "\(path)")
                    #expect(metrics.allSatisfy { $0.contains("\"output_distance\"") && $0.contains("\"agreement\"") })
                }
            }
        }
        let csv = try String(contentsOfFile: root + "/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + Self.cellCount - 4)
        #expect(FileManager.default.fileExists(atPath: root + "/report.html"))

        // Finished: nothing to do. A different grid in the same folder is refused.
        let third = try CommandLineTests.run(["experiment", "--out", root] + Self.grid)
        #expect(third.status == 0 && third.stdout.contains("\(Self.cellCount) already finished, 0 to run"))
        try CommandLineTests.expectCleanFailure(["experiment", "--out", root, "--densities", "0.5",
                                                 "--datasets", "synthetic"],
                                                mentions: "different experiment")
    }

    @Test func planWritesIndependentCommandsAndSlurmArrays() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/exp"
        let r = try CommandLineTests.run(["experiment", "--out", root, "--plan"] + Self.grid)
        #expect(r.status == 0, "\(r.stderr)")
        let commands = try String(contentsOfFile: root + "/plan/commands.txt", encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(commands.count == Self.cellCount)
        let transferArray = try String(contentsOfFile: root + "/plan/transfer.sbatch", encoding: .utf8)
        #expect(transferArray.contains("#SBATCH --array=0-3") && transferArray.contains("$SLURM_ARRAY_TASK_ID"))
        let submit = try String(contentsOfFile: root + "/plan/submit.sh", encoding: .utf8)
        #expect(submit.contains("--dependency=afterok:"))
        // Sparse cells wait for the dense cells (their references); ntt cells for the transfers too.
        #expect(submit.contains("dense=$(sbatch --parsable train-dense.sbatch)")
                && submit.contains("sbatch --parsable --dependency=afterok:\"$dense\" train.sbatch")
                && submit.contains("--dependency=afterok:\"$transfer\":\"$dense\" train-ntt.sbatch"))
        // Slurm opens each task's --output (in logs/) before the task runs: the folder must exist at
        // submit time (SlurmPlanTests runs the plan on a real Slurm).
        #expect(transferArray.contains("#SBATCH --output=\(root)/logs/"))
        #expect(FileManager.default.fileExists(atPath: root + "/logs") && submit.contains("mkdir -p \(root)/logs"))
        #expect(!FileManager.default.fileExists(atPath: root + "/cells"))  // nothing ran

        // A plan's command runs its cell, as an array task would; then the report sees it.
        let cellID = commands[0].components(separatedBy: "--cell ").last!
            .trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        let cell = try CommandLineTests.run(["experiment", "--out", root, "--cell", cellID])
        #expect(cell.status == 0, "\(cell.stderr)")
        let repeated = try CommandLineTests.run(["experiment", "--out", root, "--cell", cellID])
        #expect(repeated.status == 0 && repeated.stdout.contains("already finished"))
        // An ntt training cell refuses to start before its transfer has finished.
        let dependent = commands.first { $0.contains("train-ntt-d0.2") }!
        let dependentID = dependent.components(separatedBy: "--cell ").last!
            .trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        let early = try CommandLineTests.run(["experiment", "--out", root, "--cell", dependentID])
        #expect(early.status != 0 && early.stderr.contains("has not finished"))
        // A baseline cell refuses to start before its dense reference has finished.
        let baseline = commands.first { $0.contains("train-random-d0.2-s0") }!
        let baselineID = baseline.components(separatedBy: "--cell ").last!
            .trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        let before = try CommandLineTests.run(["experiment", "--out", root, "--cell", baselineID])
        #expect(before.status != 0 && before.stderr.contains("its reference"), "\(before.stderr)")
        let report = try CommandLineTests.run(["report", root])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/figures/transfer-distances.svg"))

        try CommandLineTests.expectCleanFailure(["report", dir], mentions: "no cells/ folder")
        try CommandLineTests.expectCleanFailure(["experiment", "--out", root, "--cell", "nonsense"],
                                                mentions: "not a cell")
        try CommandLineTests.expectCleanFailure(["experiment", "--out", dir + "/x", "--densities", "2"],
                                                mentions: "--densities")
    }
}
