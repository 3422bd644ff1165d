import Foundation
import Testing

/// `ntt experiment --time-limit`: cells that would not finish in time are not started, running
/// ones are stopped when the time is up, and the same command continues afterwards.
struct TimeLimitTests {
    /// One seed of the end-to-end grid: 2 transfers, a dense cell, and ntt and random cells at 2
    /// densities (7 cells).
    static let grid: [String] = {
        var g = ExperimentCommandTests.grid
        let seeds = g.firstIndex(of: "--seeds")!
        g.replaceSubrange(seeds...(seeds + 2), with: ["--seeds", "0"])
        return g
    }()

    /// A finished transfer "took" 10⁶ s: with an hour left the other transfer does not start, nor
    /// the ntt cell that needs it; the training cells (not yet timed) all run.
    @Test func cellsThatWouldNotFitAreLeftForTheNextRun() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/exp"
        let transfer = try ExperimentCommandTests.plannedCellID(root, grid: Self.grid, containing: "transfer-d0.1-s0")
        let first = try CommandLineTests.run(["experiment", "--out", root, "--cell", transfer])
        #expect(first.status == 0, "\(first.stderr)")
        let doneURL = URL(fileURLWithPath: root + "/cells/" + transfer + "/done.json")
        var done = try JSONSerialization.jsonObject(with: Data(contentsOf: doneURL)) as! [String: Any]
        done["seconds"] = 1e6
        try JSONSerialization.data(withJSONObject: done).write(to: doneURL)

        let limited = try CommandLineTests.run(["experiment", "--out", root, "--jobs", "2", "--time-limit", "1h"])
        #expect(limited.status == 75, "\(limited.stdout)\(limited.stderr)")
        // transfer-d0.2-s0 and the ntt cell that needs it; d0.1-s0's ntt cell ran.
        #expect(limited.stdout.contains("time limit: 2 cell(s) left; run the same command again"), "\(limited.stdout)")
        let after = ExperimentCommandTests.doneFiles(root)
        #expect(after.count == 5)
        #expect(after.keys.filter { $0.contains("/transfer-") }.count == 1)
        let cells = (try? FileManager.default.subpathsOfDirectory(atPath: root + "/cells")) ?? []
        #expect(cells.filter { $0.hasSuffix("/transfer-d0.2-s0") || $0.hasSuffix("/train-ntt-d0.2-s0") }.isEmpty,
                "a cell that would not fit was started")
        #expect(FileManager.default.fileExists(atPath: root + "/report.md"))

        let again = try CommandLineTests.run(["experiment", "--out", root, "--jobs", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        let all = ExperimentCommandTests.doneFiles(root)
        #expect(all.count == 7)
        for (path, data) in after { #expect(all[path] == data, "\(path) was redone") }
    }

    /// Transfers far longer than the limit are stopped when it is up, as by Ctrl-C: no cell is
    /// marked finished, and the run says what is left.
    @Test func runningCellsAreStoppedWhenTheTimeIsUp() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/exp"
        var grid = Self.grid
        grid[grid.firstIndex(of: "--transfer-iterations")! + 1] = "1000000"
        let started = Date()
        let r = try CommandLineTests.run(["experiment", "--out", root, "--jobs", "2", "--time-limit", "3s",
                                          "--status-every", "1s"] + grid)
        #expect(r.status == 75, "\(r.stdout)\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 120)
        #expect(r.stdout.contains("time limit reached: stopping 2 running cell(s)"), "\(r.stdout)")
        // While they ran, after a second without news: one status line per running cell.
        let status = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.contains(", running 00:0") }
        for transfer in ["/transfer-d0.1-s0, running", "/transfer-d0.2-s0, running"] {
            #expect(status.contains { $0.contains(transfer) }, "no status line for \(transfer): \(r.stdout)")
        }
        #expect(r.stdout.contains("time limit: 7 cell(s) left"), "\(r.stdout)")
        #expect(ExperimentCommandTests.doneFiles(root).isEmpty)
    }

    @Test func badLimitsAreRefusedBeforeAnythingIsWritten() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/exp"
        for value in ["0", "abc", "1h30", "30m1h", "1:2:3:4", ""] {
            try CommandLineTests.expectCleanFailure(["experiment", "--out", root, "--time-limit", value]
                                                    + Self.grid, mentions: "--time-limit")
        }
        try CommandLineTests.expectCleanFailure(["experiment", "--out", root, "--status-every", "0"] + Self.grid,
                                                mentions: "--status-every")
        try CommandLineTests.expectCleanFailure(["experiment", "--out", root, "--plan", "--time-limit", "1h"]
                                                + Self.grid, mentions: "--time-limit")
        #expect(!FileManager.default.fileExists(atPath: root))
    }
}
