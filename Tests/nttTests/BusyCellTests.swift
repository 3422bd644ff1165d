import Foundation
import Testing

/// A cell that another process is running (its lock held, here by the `flock` tool as a stand-in
/// for a second `ntt experiment`) is waited for: the cell process exits 75 (EX_TEMPFAIL) without
/// touching the cell or its log, and a scheduler that meets it waits and then finishes the grid
/// without reporting a failure.
struct BusyCellTests {
    typealias CLI = CommandLineTests
    static let grid = ["--models", "dense(16),relu,dense(10)", "--datasets", "synthetic", "--densities", "0.1",
                       "--initializations", "random", "--seeds", "0", "--train-iterations", "20",
                       "--evaluate-every", "10"]

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock"), "needs the flock tool"))
    func lockedCellIsWaitedForNotFailed() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/grid"
        let id = try ExperimentCommandTests.plannedCellID(root, grid: Self.grid, containing: nil)
        let lockPath = root + "/cells/" + id + ".lock"
        try FileManager.default.createDirectory(atPath: (lockPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let logPath = root + "/logs/" + id.replacingOccurrences(of: "/", with: "__") + ".log"
        try Data("an earlier line\n".utf8).write(to: URL(fileURLWithPath: logPath))

        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [lockPath, "sleep", "4"]
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        Thread.sleep(forTimeInterval: 0.5)

        let busy = try CLI.run(["experiment", "--out", root, "--cell", id])
        #expect(busy.status == 75, "\(busy.stdout) \(busy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/cells/" + id + "/done.json"))

        let scheduler = try CLI.run(["experiment", "--out", root])
        #expect(scheduler.status == 0, "\(scheduler.stdout) \(scheduler.stderr)")
        #expect(!scheduler.stdout.contains("FAILED"))
        #expect(FileManager.default.fileExists(atPath: root + "/cells/" + id + "/done.json"))
        #expect(try String(contentsOfFile: logPath, encoding: .utf8).hasPrefix("an earlier line\n"))
    }
}
