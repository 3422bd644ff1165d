import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ntt experiment --plan` on a real Slurm, end to end.
///
/// The plan's sbatch scripts send each array task's output to DIR/logs, and Slurm opens that file
/// before the task starts: when the folder was missing, every task failed at once and the ntt
/// training array waited forever (DependencyNeverSatisfied). Only a real Slurm shows that, so
/// scripts/slurm/run-plan-on-slurm.sh starts a private single-node cluster on this host (munged,
/// slurmctld and slurmd as root, a generated munge key and slurm.conf, all in a temporary folder,
/// stopped by pid afterwards), writes a tiny grid's plan with the built `ntt`, runs plan/submit.sh,
/// waits for the queue to empty and checks that `ntt report` covers every cell.
///
/// Needs root and Debian's slurm-wlm and munge (.ci/run installs them). Where Slurm cannot start
/// (the script exits 77: not root, packages missing, daemons refusing to run) the test is skipped
/// with the script's reason; any other failure fails it with the script's output.
struct SlurmPlanTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/slurm/run-plan-on-slurm.sh")

    @Test func planRunsOnARealSlurmAndTheReportCoversEveryCell() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script.path, CommandLineTests.executable.path, dir + "/work"]
        var environment = ProcessInfo.processInfo.environment
        environment["NTT_SLURM_TIMEOUT"] = "60"  // the tiny grid's eight cells take seconds
        process.environment = environment
        // Output to a file, not a pipe (a full pipe would block the script).
        let outURL = URL(fileURLWithPath: dir + "/script.out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        defer { try? out.close() }
        process.standardOutput = out
        process.standardError = out
        try process.run()
        // Every wait in the script is bounded; this bound only keeps a hung daemon from hanging the
        // suite (SIGTERM lets the script stop its daemons).
        let deadline = Date().addingTimeInterval(110)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let output = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        if process.terminationStatus == 77 {
            let reason = output.split(separator: "\n").last { $0.hasPrefix("Slurm cannot start here") }
            try Test.cancel(Comment(rawValue: String(reason ?? "Slurm cannot start here")))
        }
        #expect(process.terminationStatus == 0, "run-plan-on-slurm.sh exited \(process.terminationStatus):\n\(output)")
        #expect(output.contains("PASS:"), "\(output)")
    }
}
