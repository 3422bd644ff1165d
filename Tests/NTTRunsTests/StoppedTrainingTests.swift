import Foundation
import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

/// Stopping a training run (Ctrl-C, SIGTERM, an experiment's time limit) and what it leaves:
/// training keeps no checkpoint, so a stopped run leaves its output folder as it was, and the
/// staging folders of killed runs are cleared by the next run into the same folder.
struct StoppedTrainingTests {
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ntt-stop-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func entries(_ dir: URL) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
    }

    @Test func trainerStopsAfterTheIterationItWasAskedAt() throws {
        let (trainer, sparse) = try TrainerTests.setup()
        var asked = 0
        var records: [TrainRecord] = []
        #expect {
            _ = try trainer.run(parameters: sparse.parameters, masks: sparse.masks, record: { records.append($0) },
                                stop: { asked += 1; return asked == 130 })
        } throws: { error in
            (error as? Trainer.Stopped).map { $0.iteration == 130 && $0.total == 300 } ?? false
        }
        #expect(records.map(\.iteration) == [120])  // the records made before the stop
        // Never asked after the last iteration: a finished run is not turned into a stopped one.
        asked = 0
        let result = try trainer.run(parameters: sparse.parameters, masks: sparse.masks,
                                     stop: { asked += 1; return asked >= 300 })
        #expect(asked == 299 && result.record.final && result.record.iteration == 300)
    }

    /// A stopped `TrainingRun` writes nothing: a new --out is not created, and an --overwrite
    /// target keeps every byte.
    @Test func aStoppedRunLeavesItsFolderAsItWas() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var t = TrainConfig()
        t.model = "dense(24),relu,dense(10)"; t.dataset = "synthetic"; t.iterations = 200; t.evaluateEvery = 50
        let run = try TrainingRun(config: TrainingRunConfig(initialization: .pruning(.random), training: t))
        let old = dir.appendingPathComponent("old")
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        try Data("ntt 0\n".utf8).write(to: old.appendingPathComponent(RunFolder.markerName))
        try Data("{\"tool_version\":\"0\"}".utf8).write(to: old.appendingPathComponent(RunFolder.configName))
        let before = try FileManager.default.contentsOfDirectory(atPath: old.path).sorted().map {
            try Data(contentsOf: old.appendingPathComponent($0))
        }
        for (name, overwrite) in [("new", false), ("old", true)] {
            let stop = StopFlag()
            let folder = try RunFolder.create(dir.appendingPathComponent(name), overwrite: overwrite)
            #expect {
                _ = try run.run(dataset: TrainerTests.dataset, folder: folder, stop: stop) { p in
                    if p.iteration == 60 { stop.set() }
                }
            } throws: { error in (error as? Trainer.Stopped)?.iteration == 60 }
        }
        #expect(Self.entries(dir) == ["old"])  // no new folder, no staging folder
        #expect(try FileManager.default.contentsOfDirectory(atPath: old.path).sorted().map {
            try Data(contentsOf: old.appendingPathComponent($0))
        } == before)
    }

    /// Only staging folders of the same run folder, named `.NAME.partial-PID`, holding ntt's
    /// marker, and not locked by a live writer are removed.
    @Test func abandonedStagingFoldersAreRemovedAndNothingElse() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func make(_ name: String, marker: Bool = true) throws -> URL {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try Data("{}\n".utf8).write(to: url.appendingPathComponent(RunFolder.metricsName))
            if marker { try Data("ntt 0\n".utf8).write(to: url.appendingPathComponent(RunFolder.markerName)) }
            return url
        }
        _ = try make(".run.partial-4000001")                   // killed: removed
        let live = try make(".run.partial-4000002")            // being written: kept
        let liveLock = try FileLock.takeFolder(live)
        _ = try make(".run.partial-4000003", marker: false)    // not made by ntt: kept
        _ = try make(".run.partial-x1")                        // not a staging name: kept
        _ = try make(".other.partial-4000004")                 // another run's: kept
        let folder = try RunFolder.create(dir.appendingPathComponent("run"), overwrite: false)
        try folder.staged { staging in try staging.writeText("x\n", to: "result.txt") }
        withExtendedLifetime(liveLock) {}
        #expect(Self.entries(dir) == ["run", ".run.partial-4000002", ".run.partial-4000003", ".run.partial-x1",
                                      ".other.partial-4000004"])
        #expect(FileManager.default.fileExists(atPath: folder.file("result.txt").path))
    }
}
