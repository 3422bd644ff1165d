import Foundation
import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

/// A training run's outputs on the fixed test probe, and a sparse run compared with a dense
/// reference run trained in lockstep (issue 14).
struct ProbeOutputsTests {
    static func config(density: Double = 1, seed: UInt64 = 4) -> TrainConfig {
        var t = TrainConfig()
        t.model = "dense(24),relu,dense(10)"; t.dataset = "synthetic"; t.density = density; t.seed = seed
        t.iterations = 50; t.evaluateEvery = 20
        return t
    }

    static func train(_ initialization: Initialization, _ t: TrainConfig, into dir: URL,
                      reference: URL? = nil) throws -> TrainingRun.Outcome {
        let run = try TrainingRun(config: TrainingRunConfig(initialization: initialization, training: t,
                                                            reference: reference?.path))
        return try run.run(dataset: TrainerTests.dataset, folder: RunFolder(dir))
    }

    @Test func comparisonMatchesThePlainDefinition() {
        let a = Tensor(shape: [3, 2], scalars: [1, 2, 3, 0, 0, 5])
        let b = Tensor(shape: [3, 2], scalars: [1, 3, 1, 0, 4, 1])
        let c = ProbeComparison(iteration: 7, outputs: a, reference: b)
        // Squared differences 0, 1, 4, 0, 16, 16 over 6 entries; classes 1, 0, 1 vs 1, 0, 0.
        #expect(c.iteration == 7 && c.outputDistance == 37.0 / 6 && c.agreement == 2.0 / 3)
    }

    /// The dense run compared with itself: zero distance and full agreement at every record; its
    /// probe outputs are written at iteration 0 and at every evaluation.
    @Test func denseRunAgainstItselfIsZero() throws {
        let dir = TransferRunTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dense = dir.appendingPathComponent("dense")
        _ = try Self.train(.pruning(.dense), Self.config(), into: dense)
        let stored = try ProbeOutputs.load(dense.path)
        #expect(stored.iterations == [0, 20, 40, 50])
        #expect(stored.outputs.allSatisfy { $0.shape == [ProbeOutputs.probeSize, 10] })
        let again = try Self.train(.pruning(.dense), Self.config(), into: dir.appendingPathComponent("again"),
                                   reference: dense)
        #expect(again.trajectory.map(\.iteration) == [0, 20, 40, 50])
        #expect(again.trajectory.allSatisfy { $0.outputDistance == 0 && $0.agreement == 1 })
        let records = try RunFolder(dir.appendingPathComponent("again")).readMetrics(TrainRecord.self)
        #expect(records.map(\.outputDistance) == [0, 0, 0] && records.map(\.agreement) == [1, 1, 1])
    }

    /// A sparse run in lockstep with the dense one: positive distances, recorded in metrics.jsonl
    /// and config.json; a reference that did not train in lockstep is refused before anything is
    /// written, in one line naming --reference.
    @Test func sparseRunAgainstTheDenseOne() throws {
        let dir = TransferRunTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dense = dir.appendingPathComponent("dense")
        _ = try Self.train(.pruning(.dense), Self.config(), into: dense)
        let sparse = try Self.train(.pruning(.random), Self.config(density: 0.2), into: dir.appendingPathComponent("s"),
                                    reference: dense)
        #expect(sparse.trajectory.count == 4 && sparse.trajectory.allSatisfy { $0.outputDistance > 0 })
        let own = try ProbeOutputs.load(dir.appendingPathComponent("s").path)
        let ref = try ProbeOutputs.load(dense.path)
        for (c, t) in zip(sparse.trajectory, own.iterations) {
            #expect(c == ProbeComparison(iteration: t, outputs: own.outputs(at: t)!, reference: ref.outputs(at: t)!))
        }
        let config = try String(contentsOf: dir.appendingPathComponent("s/config.json"), encoding: .utf8)
        #expect(config.contains("\"initial_comparison\"") && config.contains("\"reference\""))

        for (change, field) in [({ (t: inout TrainConfig) in t.seed = 5 }, "seed"),
                                ({ $0.evaluateEvery = 10 }, "evaluate-every"), ({ $0.batchSize = 32 }, "batch size"),
                                ({ $0.iterations = 60 }, "iterations")] {
            var t = Self.config(density: 0.2)
            change(&t)
            let out = dir.appendingPathComponent("bad-\(field)")
            #expect { try Self.train(.pruning(.random), t, into: out, reference: dense) } throws: {
                let text = "\($0)"
                return text.hasPrefix("--reference \(dense.path)") && text.contains(field) && !text.contains("\n")
            }
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        #expect { try Self.train(.pruning(.random), Self.config(density: 0.2), into: dir.appendingPathComponent("x"),
                                 reference: dir) } throws: { "\($0)".hasPrefix("--reference") }
    }
}
