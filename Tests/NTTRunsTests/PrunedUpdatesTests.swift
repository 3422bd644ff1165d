import Foundation
import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

/// `--pruned-updates`: what a transfer step does to masked-out weights (issue 14).
struct PrunedUpdatesTests {
    typealias Runs = TransferRunTests

    /// The run's state after `iterations` steps, from its checkpoint: weights, masks and Adam moments
    /// (nil for SGD) per layer.
    struct Snapshot {
        var weights: [[Float]], masks: [[Float]], m: [[Float]]?, v: [[Float]]?
        init(_ folder: URL, layers: Int) throws {
            let t = try SafeTensors.read(folder.appendingPathComponent(TransferRun.checkpointName).path).tensors
            weights = (0..<layers).map { t[TensorNames.weight($0)]!.scalars }
            masks = (0..<layers).map { t[TensorNames.mask($0)]!.scalars }
            m = t["adam.m.0"] == nil ? nil : (0..<layers).map { t["adam.m.\($0)"]!.scalars }
            v = t["adam.v.0"] == nil ? nil : (0..<layers).map { t["adam.v.\($0)"]!.scalars }
        }
    }

    /// Snapshots after each of the first `steps` iterations (one run, stopped and resumed step by step).
    static func snapshots(_ c: TransferConfig, steps: Int) throws -> [Snapshot] {
        let dir = Runs.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = Runs.dataset()
        var result: [Snapshot] = []
        for k in 1...steps {
            let run = try TransferRun(config: c, dataset: data, folder: RunFolder(dir))
            #expect(try run.run(resume: k > 1, stopAfter: k) == .interrupted(atIteration: k))
            result.append(try Snapshot(dir, layers: 2))
        }
        return result
    }

    /// Masks re-chosen every 2 iterations, so that weights pruned with non-zero moments exist.
    static func config(_ mode: PrunedUpdates, _ optimizer: TrainConfig.OptimizerKind) -> TransferConfig {
        var c = Runs.config()
        c.prunedUpdates = mode; c.optimizer = optimizer; c.maskUpdateEvery = 2
        if optimizer == .sgd { c.learningRate = 1e-2 }
        return c
    }

    /// `frozen`: in every step, each weight pruned by the step's masks keeps its value and its
    /// Adam moments bit for bit. `momentum` moves some of them (so the check can fail).
    @Test(arguments: TrainConfig.OptimizerKind.allCases)
    func frozenLeavesPrunedWeightsAndMomentsUntouched(optimizer: TrainConfig.OptimizerKind) throws {
        func prunedChanges(_ mode: PrunedUpdates) throws -> Int {
            let s = try Self.snapshots(Self.config(mode, optimizer), steps: 7)
            var changes = 0
            for (before, after) in zip(s, s.dropFirst()) {
                for l in 0..<2 {
                    for i in before.masks[l].indices where before.masks[l][i] == 0 {
                        var same = before.weights[l][i].bitPattern == after.weights[l][i].bitPattern
                        if let m = before.m, let v = before.v {
                            same = same && m[l][i].bitPattern == after.m![l][i].bitPattern
                                && v[l][i].bitPattern == after.v![l][i].bitPattern
                        }
                        if !same { changes += 1 }
                    }
                }
            }
            return changes
        }
        #expect(try prunedChanges(.frozen) == 0)
        if optimizer == .adam { #expect(try prunedChanges(.momentum) > 0) }
    }

    /// One step's update of the raw weights, computed plainly: the teacher's weights and the
    /// initial masks, the run's first batch, the loss's gradient `gradient(parameters, masks)`, one
    /// Adam step on weights and biases.
    static func plainStep(_ c: TransferConfig, gradient: (TransferLoss, Model, [LayerParameters], [Tensor], Tensor,
                                                          Tensor, TransferLoss.Targets) -> [LayerParameters])
        throws -> (weights: [[Float]], masks: [[Float]], teacher: [[Float]]) {
        let dir = Runs.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try TransferRun(config: c, dataset: Runs.dataset(), folder: RunFolder(dir))
        let model = run.model
        let teacher = model.initialize(seed: c.seed)
        let masks = try run.initialMasks(teacher)
        var order = BatchOrder(count: run.data.count, batchSize: c.batchSize, seed: c.seed)
        let x = model.prepare(run.data.batch(order.next()).images)
        let half = c.batchSize / 2
        let x1 = x.slice(rows: 0..<half), x2 = x.slice(rows: half..<c.batchSize)
        let loss = TransferLoss(lambdaKernel: c.lambdaKernel, lambdaL2: c.effectiveLambdaL2(for: model),
                                density: Float(c.density), scope: c.kernelScope)
        let targets = TransferLoss.Targets.teacher(model: model, parameters: teacher, x1: x1, x2: x2)
        let g = gradient(loss, model, teacher, masks, x1, x2, targets)
        var tensors = teacher.map(\.weight) + teacher.map(\.bias)
        var adam = Adam(learningRate: c.learningRate)
        adam.update(&tensors, gradients: g.map(\.weight) + g.map(\.bias))
        return (tensors[0..<2].map(\.scalars), masks.map(\.scalars), teacher.map(\.weight.scalars))
    }

    /// Whether two lists of tensors are the same bits (a Bool, so that a failure prints briefly).
    static func sameBits(_ a: [[Float]], _ b: [[Float]]) -> Bool {
        a.map { $0.map(\.bitPattern) } == b.map { $0.map(\.bitPattern) }
    }

    /// `dense`: the first step moves pruned weights, by exactly Adam on the gradient of the loss
    /// w.r.t. the effective weights, computed plainly as the unmasked loss's gradient at w ⊙ m.
    /// `momentum` (the default): exactly Adam on the loss's raw-weight gradient, as before the option.
    @Test func denseAndMomentumStepsMatchAPlainComputation() throws {
        var c = Self.config(.dense, .adam)
        let dense = try Self.snapshots(c, steps: 1)[0]
        let plainDense = try Self.plainStep(c) { loss, model, teacher, masks, x1, x2, targets in
            let effective = zip(teacher, masks).map { p, m in
                LayerParameters(weight: Tensor(shape: m.shape, scalars: zip(p.weight.scalars, m.scalars).map(*)),
                                bias: p.bias)
            }
            return loss.valueAndGradient(model: model, parameters: effective,
                                         masks: masks.map { Tensor.ones($0.shape) },
                                         x1: x1, x2: x2, targets: targets).gradient
        }
        #expect(Self.sameBits(dense.weights, plainDense.weights))
        var movedPruned = 0
        for l in 0..<2 {
            for i in plainDense.masks[l].indices where plainDense.masks[l][i] == 0 {
                if dense.weights[l][i] != plainDense.teacher[l][i] { movedPruned += 1 }
            }
        }
        #expect(movedPruned > 0)

        c.prunedUpdates = .momentum
        let momentum = try Self.snapshots(c, steps: 1)[0]
        let plain = try Self.plainStep(c) { loss, model, teacher, masks, x1, x2, targets in
            loss.valueAndGradient(model: model, parameters: teacher, masks: masks, x1: x1, x2: x2,
                                  targets: targets).gradient
        }
        #expect(Self.sameBits(momentum.weights, plain.weights))
        // The default is `momentum`: a run without the setting is the same run, byte for byte.
        let a = Runs.temporaryDirectory(), b = Runs.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        #expect(TransferConfig().prunedUpdates == .momentum)
        _ = try TransferRun(config: Runs.config(), dataset: Runs.dataset(), folder: RunFolder(a)).run()
        var explicit = Runs.config()
        explicit.prunedUpdates = .momentum
        _ = try TransferRun(config: explicit, dataset: Runs.dataset(), folder: RunFolder(b)).run()
        for f in Runs.outputs {
            #expect(try Data(contentsOf: a.appendingPathComponent(f)) == Data(contentsOf: b.appendingPathComponent(f)))
        }
    }
}
