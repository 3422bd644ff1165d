import Foundation
import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

/// A sparse initialisation's distance to its dense network at the start of training (issue 14).
struct InitialDistanceTests {
    /// Against the plain computation: Jacobian-contraction kernels of the masked and the dense
    /// network, and the mean squares of their differences and of the outputs' differences.
    @Test func matchesThePlainComputation() throws {
        let model = try Model(spec: ModelSpec(parsing: "dense(7),relu,dense(5),relu,dense(3)"), inputShape: [6])
        let dense = model.initialize(seed: 2)
        let sparse = try PruningMethod.random.initialize(model: model, density: 0.4, scope: .layerwise, seed: 2,
                                                         batch: nil)
        let probe = Tensor(shape: [8, 6], scalars: (0..<48).map { Float(sin(Double($0) * 1.7)) })
        let got = InitialDistance.measure(model: model, sparse: sparse, dense: dense, probe: probe)

        let x1 = probe.slice(rows: 0..<4), x2 = probe.slice(rows: 4..<8)
        let thetaS = JacobianNTK.compute(model: model, parameters: sparse.parameters, masks: sparse.masks,
                                         x1: x1, x2: x2, scope: .effective)
        let thetaD = JacobianNTK.compute(model: model, parameters: dense, masks: nil, x1: x1, x2: x2, scope: .effective)
        func meanSquare(_ a: [Float], _ b: [Float]) -> Double {
            zip(a, b).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(a.count)
        }
        let ntk = meanSquare(thetaS.scalars, thetaD.scalars)
        let outputs = meanSquare(model.apply(sparse.parameters, masks: sparse.masks, to: probe).scalars,
                                 model.apply(dense, to: probe).scalars)
        #expect(ntk > 0 && abs(got.ntkDistance - ntk) <= 1e-4 * ntk, "\(got.ntkDistance) vs \(ntk)")
        #expect(outputs > 0 && abs(got.targetDistance - outputs) <= 1e-4 * outputs,
                "\(got.targetDistance) vs \(outputs)")
        #expect(got.probeInputs == 8)
        // The dense network against itself.
        let same = InitialDistance.measure(model: model, sparse: SparseInitialization(
            parameters: dense, masks: model.parameterShapes.map { Tensor.ones($0.weight) }), dense: dense, probe: probe)
        #expect(same.ntkDistance == 0 && same.targetDistance == 0)
    }

    /// A training run from a transfer starts where the transfer ended: its initial distances are
    /// the transfer's last record (same teacher, probe, masks and normalisation). A pruning
    /// method's dense network is the unpruned initialisation of the seed (the teacher's weights).
    @Test func trainingRunsRecordIt() throws {
        let dir = TransferRunTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = TransferRunTests.dataset()
        let transferConfig = TransferRunTests.config()
        let transfer = try TransferRun(config: transferConfig, dataset: dataset,
                                       folder: RunFolder(dir.appendingPathComponent("transfer")))
        #expect(try transfer.run() == .finished)
        let last = try transfer.records().last!

        var t = TrainConfig()
        t.model = transferConfig.model; t.dataset = "synthetic"; t.density = transferConfig.density
        t.seed = transferConfig.seed; t.iterations = 20; t.evaluateEvery = 10; t.batchSize = 8
        let fromTransfer = try TrainingRun(config: TrainingRunConfig(
            initialization: .transferRun(dir.appendingPathComponent("transfer").path), training: t))
        let outcome = try fromTransfer.run(dataset: dataset, folder: RunFolder(dir.appendingPathComponent("ntt")))
        let d = try #require(outcome.initialDistance)
        #expect(abs(d.ntkDistance - last.ntkDistance) <= 1e-5 * last.ntkDistance,
                "\(d.ntkDistance) vs \(last.ntkDistance)")
        #expect(abs(d.targetDistance - last.targetDistance) <= 1e-5 * max(last.targetDistance, 1e-12))
        #expect(d.probeInputs == transferConfig.batchSize)
        let config = try String(contentsOf: dir.appendingPathComponent("ntt/config.json"), encoding: .utf8)
        #expect(config.contains("\"initial_distance\"") && config.contains("\"ntk_distance\""))

        let fromRandom = try TrainingRun(config: TrainingRunConfig(initialization: .pruning(.random), training: t))
        let randomFolder = RunFolder(dir.appendingPathComponent("r"))
        let random = try #require(try fromRandom.run(dataset: dataset, folder: randomFolder).initialDistance)
        let model = transfer.model
        let sparse = try PruningMethod.random.initialize(model: model, density: t.density, scope: .layerwise,
                                                         seed: t.seed, batch: nil)
        let (_, probe) = try TransferRun.split(dataset, config: TransferConfig())
        #expect(random == InitialDistance.measure(model: model, sparse: sparse, dense: model.initialize(seed: t.seed),
                                                  probe: model.prepare(probe)))
        #expect(random.ntkDistance > 0 && random.probeInputs == TransferConfig().batchSize)

        var dense = t
        dense.density = 1
        let fromDense = try TrainingRun(config: TrainingRunConfig(initialization: .pruning(.dense), training: dense))
        let zero = try #require(try fromDense.run(dataset: dataset, folder: RunFolder(dir.appendingPathComponent("d")))
            .initialDistance)
        #expect(zero.ntkDistance == 0 && zero.targetDistance == 0)
    }
}
