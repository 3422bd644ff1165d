import Foundation
import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

/// The supervised ("exploit") phase on synthetic data.
struct TrainerTests {
    static let dataset: Dataset = {
        var o = SyntheticDataset.Options()
        o.imageShape = [6, 6, 1]; o.trainCount = 640; o.testCount = 300; o.noise = 1.0
        return SyntheticDataset.make(o)
    }()

    static func setup(density: Double = 0.3,
                      configure: (inout TrainConfig) -> Void = { _ in }) throws -> (Trainer, SparseInitialization) {
        var c = TrainConfig()
        c.model = "dense(24),relu,dense(10)"; c.dataset = "synthetic"; c.iterations = 300; c.evaluateEvery = 120
        configure(&c)
        let model = try Model(spec: ModelSpec.resolve(c.model, classes: 10), imageShape: [6, 6, 1])
        let sparse = try PruningMethod.random.initialize(model: model, density: density, scope: .layerwise, seed: 4,
                                                         batch: nil)
        return (try Trainer(config: c, model: model, dataset: dataset), sparse)
    }

    /// Trains and writes what a training run writes (metrics, then the model), as `TrainingRun` does.
    static func run(_ trainer: Trainer, parameters: [LayerParameters], masks: [Tensor],
                    into dir: URL) throws -> TrainRecord {
        var records: [TrainRecord] = []
        let result = try trainer.run(parameters: parameters, masks: masks, record: { records.append($0) })
        let folder = RunFolder(dir)
        let log = try folder.metrics()
        for r in records { try log.append(r) }
        try folder.writeModel(result.parameters, masks: masks, metadata: [:], to: TrainingRun.outputName)
        return result.record
    }

    static func folder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("train-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func learnsKeepsPrunedWeightsAtZeroAndWritesMetrics() throws {
        let (trainer, sparse) = try Self.setup()
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = trainer.accuracy(sparse.parameters, masks: sparse.masks, on: Self.dataset.test)
        let final = try Self.run(trainer, parameters: sparse.parameters, masks: sparse.masks, into: dir)
        #expect(final.final && final.iteration == 300)
        #expect(final.testAccuracy > 0.6 && final.testAccuracy > before + 0.2,
                "accuracy \(before) → \(final.testAccuracy)")
        let saved = try ModelCheckpoint.load(dir.appendingPathComponent("model.safetensors").path, model: trainer.model)
        for (p, m) in zip(saved.parameters, saved.masks!) {
            #expect(zip(p.weight.scalars, m.scalars).allSatisfy { $1 == 1 || $0 == 0 }, "a pruned weight moved")
            #expect(zip(p.weight.scalars, m.scalars).contains { $1 == 1 && $0 != 0 })
        }
        #expect(saved.masks!.map(\.scalars) == sparse.masks.map(\.scalars))
        // Records at 120, 240 and the final one (whole test set, matching the saved model).
        let records = try RunFolder(dir).readMetrics(TrainRecord.self)
        #expect(records.map(\.iteration) == [120, 240, 300] && records.map(\.final) == [false, false, true])
        #expect(records.last == final)
        #expect(abs(trainer.accuracy(saved.parameters, masks: saved.masks!, on: Self.dataset.test) - final.testAccuracy)
                < 1e-12)
    }

    @Test func sameSeedSameBytes() throws {
        let a = Self.folder(), b = Self.folder()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        for dir in [a, b] {
            let (trainer, sparse) = try Self.setup { $0.iterations = 30; $0.optimizer = .sgd; $0.learningRate = 0.05 }
            _ = try Self.run(trainer, parameters: sparse.parameters, masks: sparse.masks, into: dir)
        }
        for file in ["model.safetensors", "metrics.jsonl"] {
            #expect(FileManager.default.contents(atPath: a.appendingPathComponent(file).path)
                    == FileManager.default.contents(atPath: b.appendingPathComponent(file).path))
        }
    }

    @Test func divergenceStopsWithTheIteration() throws {
        let (trainer, sparse) = try Self.setup(density: 1) { $0.optimizer = .sgd; $0.learningRate = 1e6 }
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            try Self.run(trainer, parameters: sparse.parameters, masks: sparse.masks, into: dir)
        } throws: { error in
            let d = "\(error)"
            return d.contains("at iteration") && d.contains("--lr")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path))
    }

    @Test func schedulesAndValidation() throws {
        var c = TrainConfig()
        c.learningRate = 1
        c.schedule = .cosine
        #expect(c.learningRate(at: 0, of: 100) == 1 && abs(c.learningRate(at: 50, of: 100) - 0.5) < 1e-6
                && c.learningRate(at: 99, of: 100) < 0.01)
        c.schedule = .step
        #expect(c.learningRate(at: 0, of: 90) == 1 && abs(c.learningRate(at: 30, of: 90) - 0.1) < 1e-7
                && abs(c.learningRate(at: 89, of: 90) - 0.01) < 1e-8)
        for (change, flag) in [({ (c: inout TrainConfig) in c.learningRate = -1 }, "--lr"),
                               ({ $0.momentum = 1 }, "--momentum"),
                               ({ $0.evaluateEvery = 0 }, "--evaluate-every"), ({ $0.density = 0 }, "--density")] {
            var bad = TrainConfig()
            change(&bad)
            #expect { try bad.validate() } throws: { "\($0)".contains(flag) }
        }
    }

    /// The fused step (cross-entropy on the tape, L2 penalty folded into the optimiser pass)
    /// against the plain definition: the tape's gradient of CE(w ⊙ m) + λΣ‖w ⊙ m‖², then the
    /// textbook update. A large λ makes a wrong penalty gradient visible. At density 0.03 every
    /// layer, dense or conv, multiplies sparsely (its mask is listed) and must agree as well.
    @Test(arguments: [("dense(12),relu,dense(10)", 0.4), ("dense(12),relu,dense(10)", 0.03),
                      ("conv(16,3),relu,maxpool(2),flatten,dense(10)", 0.03)])
    func stepMatchesTheGradientOfTheFullLossAndKeepsPrunedWeightsAtZero(spec: String, density: Double) throws {
        let model = try Model(spec: ModelSpec.resolve(spec, classes: 10), imageShape: [6, 6, 1])
        let sparse = try PruningMethod.random.initialize(model: model, density: density, scope: .layerwise, seed: 3,
                                                         batch: nil)
        let listed = IndexedMasks(model: model, masks: sparse.masks).patterns.map { $0 != nil }
        #expect(listed == [Bool](repeating: density < 0.05, count: listed.count), "\(spec): listed layers \(listed)")
        let start = zip(sparse.parameters, sparse.masks).map { p, m in
            LayerParameters(weight: p.weight * m, bias: p.bias)
        }
        let (images, labels) = Self.dataset.train.batch(Array(0..<16))
        let x = model.prepare(images), y = Tensor.oneHot(labels, classes: 10)
        let (lambda, eta): (Float, Float) = (0.05, 0.1)
        let layers = start.count
        let (reference, grads) = valueAndGradient(at: start.map(\.weight) + start.map(\.bias)) { v in
            let p = (0..<layers).map { LayerParameters(weight: v[$0], bias: v[layers + $0]) }
            let ce = Tensor.softmaxCrossEntropy(logits: model.apply(p, masks: sparse.masks, to: x), labels: y)
            return ce + lambda * Model.effectiveWeights(p, masks: sparse.masks).map { $0.squared().sum() }
                .reduce(Tensor(0), +)
        }
        let flat = start.map(\.weight) + start.map(\.bias)
        for kind in TrainConfig.OptimizerKind.allCases {
            var params = start
            var step = TrainingStep(model: model, weightDecay: lambda, optimizer: kind, learningRate: eta, momentum: 0)
            let loss = step(&params, masks: sparse.masks, x: x, labels: y)
            #expect(abs(loss - reference.scalar) < 1e-5 * abs(reference.scalar),
                    "\(kind): loss \(loss) vs \(reference.scalar)")
            // Expected parameters: plain SGD, or Adam's first step (m̂ = g, v̂ = g²: θ − η·g/(|g| + ε)).
            let expected: [[Float]] = zip(flat, grads).map { p, g in
                zip(p.scalars, g.scalars).map { w, gi in kind == .sgd ? w - eta * gi : w - eta * gi / (abs(gi) + 1e-8) }
            }
            let got = params.map(\.weight.scalars) + params.map(\.bias.scalars)
            for (t, (e, a)) in zip(expected, got).enumerated() {
                #expect(zip(e, a).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) }, "\(kind): tensor \(t) differs")
            }
            for (p, m) in zip(params, sparse.masks) {
                #expect(zip(p.weight.scalars, m.scalars).allSatisfy { $1 == 1 || $0 == 0 },
                        "\(kind): a pruned weight moved")
            }
        }
    }

    @Test func nonBinaryMasksAreRefused() throws {
        let (trainer, sparse) = try Self.setup()
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var masks = sparse.masks
        masks[1] = masks[1] * 0.5
        #expect { try Self.run(trainer, parameters: sparse.parameters, masks: masks, into: dir) } throws: {
            "\($0)".contains("mask of layer 1")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("metrics.jsonl").path))
    }
}

extension TrainerTests {
    /// Lockstep: a sparse run and the dense run with the same seed see the same bytes in the same
    /// order, whatever their initialisation and density; another seed does not.
    @Test func lockstepDataOrderIsTheSameBytes() throws {
        let (dense, _) = try Self.setup(density: 1) { $0.density = 1 }
        let (sparse, _) = try Self.setup(density: 0.1) { $0.density = 0.1; $0.learningRate = 0.01 }
        var a = dense.batchOrder(), b = sparse.batchOrder()
        for _ in 0..<dense.totalIterations {
            let (x, y) = (dense.trainingBatch(a.next()), sparse.trainingBatch(b.next()))
            #expect(x.images.scalars.map(\.bitPattern) == y.images.scalars.map(\.bitPattern) && x.labels == y.labels)
        }
        #expect(dense.dataOrderDigest() == sparse.dataOrderDigest())
        let (other, _) = try Self.setup { $0.seed = 1 }
        #expect(other.dataOrderDigest() != dense.dataOrderDigest())
    }
}
