import Foundation
import Testing

/// scripts/results/share-cells.sh on real grids: a tiny layer-wise grid run by `ntt experiment`,
/// the same grid planned in native scope, and the cells both scopes compute alike copied across.
struct ShareCellsScriptTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/results/share-cells.sh")

    static func grid(_ out: String, prune: String, trainIterations: Int = 4, plan: Bool = false) -> [String] {
        ["experiment", "--out", out, "--datasets", "synthetic", "--models", "dense(16),relu,dense(10)",
         "--densities", "0.1", "--initializations", "ntt", "random", "snip", "dense", "--seeds", "0",
         "--transfer-iterations", "4", "--train-iterations", String(trainIterations), "--evaluate-every", "2",
         "--prune", prune, "--jobs", "1", "--threads", "1"] + (plan ? ["--plan"] : [])
    }

    static func share(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path] + arguments
        let outURL = URL(fileURLWithPath: NSTemporaryDirectory() + "share-cells-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL) }
        let out = try FileHandle(forWritingTo: outURL)
        defer { try? out.close() }
        process.standardOutput = out
        process.standardError = out
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: outURL), as: UTF8.self))
    }

    @Test func sharedCellsAreTheCellsANativeRunWouldWrite() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (layerwise, native, fresh) = (dir + "/layerwise", dir + "/native", dir + "/fresh")
        #expect(try CommandLineTests.run(Self.grid(layerwise, prune: "layerwise")).status == 0)
        #expect(try CommandLineTests.run(Self.grid(native, prune: "native", plan: true)).status == 0)
        // The model's folder is named from its spec (sanitised): take it from the layer-wise grid.
        let models = try FileManager.default.contentsOfDirectory(atPath: layerwise + "/cells")
        #expect(models.count == 1)
        let cells = "/cells/\(models.first ?? "")/synthetic/"
        // Not a folder of cells yet: nothing but the plan.
        #expect(!FileManager.default.fileExists(atPath: native + cells + "train-random-d0.1-s0"))

        let dry = try Self.share(["--dry-run", layerwise, native])
        #expect(dry.status == 0, "\(dry.output)")
        let listed = Set(dry.output.split(separator: "\n").filter { $0.hasPrefix("cells/") }
            .map { String($0.split(separator: "/").last!) })
        // SNIP prunes globally in native scope: not shared.
        #expect(listed == ["train-dense-s0", "transfer-d0.1-s0", "train-ntt-d0.1-s0", "train-random-d0.1-s0"])
        #expect(!FileManager.default.fileExists(atPath: native + cells + "train-random-d0.1-s0"))

        let copy = try Self.share([layerwise, native])
        #expect(copy.status == 0, "\(copy.output)")
        for id in listed {
            #expect(FileManager.default.fileExists(atPath: native + cells + id + "/done.json"), "\(id)")
        }
        // Sharing again copies nothing and changes nothing.
        #expect(try Self.share([layerwise, native]).output.contains("0 cells copied"))

        // The native grid runs only the SNIP cell, and a native grid run from scratch writes the
        // random cell's metrics byte for byte as the copy has them.
        let resumed = try CommandLineTests.run(Self.grid(native, prune: "native"))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect((resumed.stdout + resumed.stderr).contains("4 already finished, 1 to run"),
                "\(resumed.stdout)\(resumed.stderr)")
        #expect(try CommandLineTests.run(Self.grid(fresh, prune: "native")).status == 0)
        for file in ["metrics.jsonl", "model.safetensors"] {
            let copied = try Data(contentsOf: URL(fileURLWithPath: native + cells + "train-random-d0.1-s0/" + file))
            let computed = try Data(contentsOf: URL(fileURLWithPath: fresh + cells + "train-random-d0.1-s0/" + file))
            #expect(copied == computed, "\(file) of the shared random cell differs from a native run's")
        }
    }

    @Test func gridsThatDifferInMoreThanTheScopeAreRefused() throws {
        let dir = CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try CommandLineTests.run(Self.grid(dir + "/a", prune: "layerwise", plan: true)).status == 0)
        #expect(try CommandLineTests.run(Self.grid(dir + "/b", prune: "native", trainIterations: 6,
                                                   plan: true)).status == 0)
        let refused = try Self.share([dir + "/a", dir + "/b"])
        #expect(refused.status == 1)
        let lines = refused.output.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("differ in more than the pruning scope: train_iterations"),
                "\(refused.output)")
        try FileManager.default.createDirectory(atPath: dir + "/corrupt", withIntermediateDirectories: true)
        try Data("{\"prune\": \"nat".utf8).write(to: URL(fileURLWithPath: dir + "/corrupt/experiment.json"))
        let before = try FileManager.default.subpathsOfDirectory(atPath: dir + "/b").sorted()
        let corrupt = try Self.share([dir + "/corrupt", dir + "/b"])
        #expect(corrupt.status == 1 && corrupt.output.split(separator: "\n").count == 1
                && corrupt.output.contains("corrupt/experiment.json: not a readable experiment.json"),
                "\(corrupt.output)")
        #expect(try FileManager.default.subpathsOfDirectory(atPath: dir + "/b").sorted() == before)
        let missing = try Self.share([dir + "/a", dir + "/nothing"])
        #expect(missing.status == 1 && missing.output.contains("nothing/experiment.json not found"))
    }
}
