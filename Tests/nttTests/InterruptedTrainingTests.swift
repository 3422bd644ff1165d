import Foundation
import Testing

/// Training stops on Ctrl-C or SIGTERM within an iteration, in `ntt train` and in an
/// experiment's training cells, and leaves nothing half-written (training has no checkpoint).
struct InterruptedTrainingTests {
    static func stagingFolders(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".partial-") }
    }

    @Test func ctrlCStopsTrainAndWritesNothing() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let started = Date()
        let r = try CommandLineTests.run(["train", "--init", "random", "--model", "dense(64),relu,dense(10)",
                                          "--dataset", "synthetic", "--density", "0.1", "--iterations", "1000000",
                                          "--out", dir + "/run"],
                                         interruptWhen: { !Self.stagingFolders(in: dir).isEmpty })
        #expect(r.status == 130, "\(r.stdout)\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(r.stdout.contains("interrupted after iteration") && r.stdout.contains("nothing was written"),
                "\(r.stdout)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? ["?"]).isEmpty)
    }

    /// A random cell of 10⁶ iterations: before, SIGTERM was only noted and the cell trained on.
    static let grid = ["--models", "dense(16),relu,dense(10)", "--datasets", "synthetic", "--densities", "0.1",
                       "--initializations", "random", "--seeds", "0", "--train-iterations", "1000000",
                       "--evaluate-every", "100"]

    @Test func sigtermStopsATrainingCell() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/exp"
        let cell = try ExperimentCommandTests.plannedCellID(root, grid: Self.grid, containing: "train-random-d0.1-s0")
        let parent = URL(fileURLWithPath: root + "/cells/" + cell).deletingLastPathComponent().path
        let r = try CommandLineTests.run(["experiment", "--out", root, "--cell", cell],
                                         interruptWhen: { !Self.stagingFolders(in: parent).isEmpty },
                                         signal: SIGTERM)
        #expect(r.status == 130, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("nothing kept"), "\(r.stdout)")
        #expect(Self.stagingFolders(in: parent).isEmpty)
        #expect(ExperimentCommandTests.doneFiles(root).isEmpty)
    }

    @Test func theTimeLimitStopsTrainingCells() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/exp"
        let started = Date()
        let r = try CommandLineTests.run(["experiment", "--out", root, "--time-limit", "3s"] + Self.grid)
        #expect(r.status == 75, "\(r.stdout)\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(r.stdout.contains("time limit reached: stopping 1 running cell(s)"), "\(r.stdout)")
        #expect(r.stdout.contains("time limit: 1 cell(s) left"), "\(r.stdout)")
        #expect(ExperimentCommandTests.doneFiles(root).isEmpty)
    }
}
