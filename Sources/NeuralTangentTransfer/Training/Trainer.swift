import Foundation
import NTTLayers

/// Settings of a supervised training run (the "exploit" phase, SPEC §3); written to `config.json`.
public struct TrainConfig: Codable, Sendable, Equatable {
    public var model: String = "lenet-300-100"
    public var dataset: String = "fashion-mnist"
    public var dataDirectory: String? = nil
    /// A pruning method name (see `PruningMethod`) or a transfer run folder / checkpoint file.
    public var initialization: String = "dense"
    public var density: Double = 1
    public var prune: PruningScope = .layerwise
    public var seed: UInt64 = 0
    public var epochs: Int = 50
    public var iterations: Int? = nil
    public var batchSize: Int = 64
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0.9
    /// λ in λ·Σ‖w ⊙ m‖² (weights only).
    public var weightDecay: Float = 1e-8
    public var schedule: Schedule = .constant
    /// Fraction of the training set held out (not trained on).
    public var validationFraction: Double = 0.1
    /// Accuracy on fixed subsets every this many iterations; the final record uses the whole test set.
    public var evaluateEvery: Int = 100
    /// Size of the fixed train/test subsets used for periodic accuracy.
    public var evaluationSubset: Int = 2000

    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case adam, sgd }
    public enum Schedule: String, Codable, Sendable, CaseIterable { case constant, cosine, step }

    public init() {}

    public func validate() throws(NTTError) {
        guard density > 0 && density <= 1 else { throw NTTError("--density must be in (0, 1], got \(density)") }
        guard epochs > 0 else { throw NTTError("--epochs must be positive, got \(epochs)") }
        if let iterations, iterations <= 0 { throw NTTError("--iterations must be positive, got \(iterations)") }
        guard batchSize > 0 else { throw NTTError("--batch-size must be positive, got \(batchSize)") }
        guard learningRate > 0 && learningRate.isFinite else { throw NTTError("--lr must be a positive number, got \(learningRate)") }
        guard weightDecay >= 0 && weightDecay.isFinite else { throw NTTError("--weight-decay must be ≥ 0, got \(weightDecay)") }
        guard momentum >= 0 && momentum < 1 else { throw NTTError("--momentum must be in [0, 1), got \(momentum)") }
        guard evaluateEvery > 0 else { throw NTTError("--evaluate-every must be positive, got \(evaluateEvery)") }
        guard validationFraction >= 0 && validationFraction < 1 else { throw NTTError("validation fraction must be in [0, 1), got \(validationFraction)") }
    }

    /// Learning rate at iteration t (0-based) of T.
    func learningRate(at t: Int, of total: Int) -> Float {
        switch schedule {
        case .constant: return learningRate
        case .cosine: return learningRate * 0.5 * (1 + Float(cos(Double.pi * Double(t) / Double(max(total, 1)))))
        case .step: return learningRate * pow(0.1, Float(t * 3 / max(total, 1)))  // ÷10 at 1/3 and 2/3
        }
    }
}

/// One line of a training run's `metrics.jsonl`.
public struct TrainRecord: Codable, Sendable, Equatable {
    public var iteration: Int
    public var epoch: Double
    /// Mean training loss (cross-entropy + L2) since the previous record.
    public var loss: Double
    public var trainAccuracy: Double
    public var testAccuracy: Double
    /// True for the last record: accuracy on the whole training split and test set.
    public var final: Bool

    enum CodingKeys: String, CodingKey {
        case iteration, epoch, loss, final
        case trainAccuracy = "train_accuracy", testAccuracy = "test_accuracy"
    }
}

/// One supervised update: the cross-entropy of the masked model and its gradient on the tape,
/// then one fused optimiser pass that adds the gradient of the L2 penalty λ‖w ⊙ m‖² (weights
/// only) and applies the update. Shared by `Trainer` and `ntt bench`.
///
/// Contract: masks are 0/1 and the weights passed in are already masked (w = w ⊙ m), as
/// `Trainer` ensures. Then ‖w ⊙ m‖² = ‖w‖² with gradient 2λw, and a pruned weight gets an exactly
/// zero gradient (m = 0 in the chain rule, w = 0 in the penalty), so the optimiser's state stays
/// zero there and the weight stays exactly 0 without re-masking.
public struct TrainingStep {
    public let model: Model
    public let weightDecay: Float
    public let optimizer: TrainConfig.OptimizerKind
    var adam: Adam
    var sgd: MomentumSGD

    public init(model: Model, weightDecay: Float, optimizer: TrainConfig.OptimizerKind = .adam,
                learningRate: Float, momentum: Float = 0.9) {
        self.model = model; self.weightDecay = weightDecay; self.optimizer = optimizer
        adam = Adam(learningRate: learningRate)
        sgd = MomentumSGD(learningRate: learningRate, momentum: momentum)
    }

    /// Updates `parameters` in place and returns the loss (cross-entropy + penalty) before the update.
    public mutating func callAsFunction(_ parameters: inout [LayerParameters], masks: [Tensor], x: Tensor, labels: Tensor,
                                        learningRate: Float? = nil, dropoutSeed: UInt64? = nil) -> Float {
        let layers = parameters.count
        let (crossEntropy, grads) = Self.crossEntropyGradient(model: model, parameters: parameters, masks: masks,
                                                              x: x, labels: labels, dropoutSeed: dropoutSeed)
        var tensors = parameters.map(\.weight) + parameters.map(\.bias)
        parameters = []  // the optimiser then updates the only copy of each array in place
        let penalties = [Float](repeating: weightDecay, count: layers) + [Float](repeating: 0, count: layers)
        let penalty: Float
        switch optimizer {
        case .adam:
            if let learningRate { adam.learningRate = learningRate }
            penalty = adam.update(&tensors, gradients: grads, penalties: penalties)
        case .sgd:
            if let learningRate { sgd.learningRate = learningRate }
            penalty = sgd.update(&tensors, gradients: grads, penalties: penalties)
        }
        parameters = (0..<layers).map { LayerParameters(weight: tensors[$0], bias: tensors[layers + $0]) }
        return crossEntropy + penalty
    }

    /// Cross-entropy of the masked model on one batch and its gradient w.r.t. [weights…, biases…].
    /// A function of its own so the tape is released before the optimiser runs.
    static func crossEntropyGradient(model: Model, parameters: [LayerParameters], masks: [Tensor], x: Tensor, labels: Tensor,
                                     dropoutSeed: UInt64?) -> (Float, [Tensor]) {
        let layers = parameters.count
        let (value, grads) = valueAndGradient(at: parameters.map(\.weight) + parameters.map(\.bias)) { v in
            let p = (0..<layers).map { LayerParameters(weight: v[$0], bias: v[layers + $0]) }
            return Tensor.softmaxCrossEntropy(logits: model.apply(p, masks: masks, to: x, dropoutSeed: dropoutSeed), labels: labels)
        }
        return (value.scalar, grads)
    }
}

/// Supervised training of a (sparse) network with fixed 0/1 masks: the weights are masked once at
/// the start, and pruned weights then stay exactly zero because their gradient is exactly zero
/// (see `TrainingStep`).
public struct Trainer {
    public let config: TrainConfig
    public let model: Model
    let train: LabeledImages
    let test: LabeledImages

    public init(config: TrainConfig, model: Model, dataset: Dataset) throws {
        try config.validate()
        self.config = config
        self.model = model
        let (train, _) = config.validationFraction > 0
            ? dataset.train.split(validationFraction: config.validationFraction, seed: config.seed)
            : (dataset.train, dataset.train)
        guard train.count >= config.batchSize else {
            throw NTTError("the training split has \(train.count) examples, fewer than --batch-size = \(config.batchSize)")
        }
        self.train = train
        self.test = dataset.test
    }

    public var totalIterations: Int { config.iterations ?? config.epochs * (train.count / config.batchSize) }

    /// Progress of a training run.
    public struct Progress: Sendable {
        public var iteration: Int, total: Int
        public var testAccuracy: Double?
    }

    /// Accuracy of the masked model on `images`, evaluated in chunks without derivatives.
    public func accuracy(_ params: [LayerParameters], masks: [Tensor], on data: LabeledImages, limit: Int? = nil) -> Double {
        let n = min(limit ?? data.count, data.count)
        guard n > 0 else { return .nan }
        var correct = 0
        var start = 0
        while start < n {
            let end = min(start + 1000, n)
            let (images, labels) = data.batch(Array(start..<end))
            let logits = withoutDerivatives { model.apply(params, masks: masks, to: model.prepare(images)) }
            let k = logits.shape[1]
            for (i, label) in labels.enumerated() {
                let row = logits.scalars[(i * k)..<((i + 1) * k)]
                if row.firstIndex(of: row.max()!)! - i * k == label { correct += 1 }
            }
            start = end
        }
        return Double(correct) / Double(n)
    }

    /// Trains from `initial` (parameters and masks) and writes `config.json`, `metrics.jsonl` and
    /// `model.safetensors` into `directory`. Returns the final record.
    public func run(parameters initialParameters: [LayerParameters], masks: [Tensor], directory: URL, progress: (Progress) -> Void = { _ in }) throws -> TrainRecord {
        let metricsURL = directory.appendingPathComponent("metrics.jsonl")
        for (l, m) in masks.enumerated() {
            if let bad = m.scalars.first(where: { $0 != 0 && $0 != 1 }) {
                throw NTTError("training needs masks of 0s and 1s; the mask of layer \(l) holds \(bad)")
            }
        }
        var lines = Data()
        var params = zip(initialParameters, masks).map { p, m in
            LayerParameters(weight: withoutDerivatives { p.weight * m }, bias: p.bias)
        }
        var step = TrainingStep(model: model, weightDecay: config.weightDecay, optimizer: config.optimizer,
                                learningRate: config.learningRate, momentum: config.momentum)
        var order = BatchOrder(count: train.count, batchSize: config.batchSize, seed: config.seed)
        let total = totalIterations
        let classes = model.outputCount
        let hasDropout = model.spec.layers.contains { if case .dropout = $0 { return true }; return false }
        var lossSum = 0.0, lossCount = 0
        var last: TrainRecord? = nil
        func record(_ t: Int, final: Bool) throws {
            let r = TrainRecord(iteration: t, epoch: Double(t) / Double(max(order.batchesPerEpoch, 1)),
                                loss: lossCount > 0 ? lossSum / Double(lossCount) : .nan,
                                trainAccuracy: accuracy(params, masks: masks, on: train, limit: final ? nil : config.evaluationSubset),
                                testAccuracy: accuracy(params, masks: masks, on: test, limit: final ? nil : config.evaluationSubset),
                                final: final)
            lines.append(try JSONLines.encode(r))
            try AtomicFile.write(lines, to: metricsURL.path)
            lossSum = 0; lossCount = 0
            last = r
            progress(Progress(iteration: t, total: total, testAccuracy: r.testAccuracy))
        }
        for t in 0..<total {
            let (images, labels) = train.batch(order.next())
            let x = model.prepare(images)
            let y = Tensor.oneHot(labels, classes: classes)
            let dropoutSeed: UInt64? = hasDropout ? config.seed &* 1_000_003 &+ UInt64(t) : nil
            let value = step(&params, masks: masks, x: x, labels: y,
                             learningRate: config.learningRate(at: t, of: total), dropoutSeed: dropoutSeed)
            guard value.isFinite else {
                throw NTTError("the training loss became \(value) at iteration \(t + 1); try a smaller --lr")
            }
            lossSum += Double(value); lossCount += 1
            let done = t + 1
            if done == total { try record(done, final: true) }
            else if done % config.evaluateEvery == 0 { try record(done, final: false) }
            else { progress(Progress(iteration: done, total: total, testAccuracy: last?.testAccuracy)) }
        }
        var tensors: [(name: String, tensor: Tensor)] = []
        for (i, p) in params.enumerated() {
            tensors += [(TensorNames.weight(i), p.weight), (TensorNames.bias(i), p.bias), (TensorNames.mask(i), masks[i])]
        }
        try SafeTensors.write(tensors, metadata: ["model": model.spec.description, "input_shape": model.inputShape.map(String.init).joined(separator: ","),
                                                  "initialization": config.initialization, "density": String(config.density),
                                                  "seed": String(config.seed), "tool": "ntt \(NTTVersion.current)",
                                                  "test_accuracy": String(last!.testAccuracy)],
                              to: directory.appendingPathComponent("model.safetensors").path)
        return last!
    }
}
