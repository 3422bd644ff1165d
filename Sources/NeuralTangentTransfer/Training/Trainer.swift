import Foundation
import NTTLayers

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
            throw NTTError("the training split has \(train.count) examples, "
                           + "fewer than --batch-size = \(config.batchSize)")
        }
        self.train = train
        self.test = dataset.test
    }

    public var totalIterations: Int { config.iterations ?? config.epochs * (train.count / config.batchSize) }

    /// Thrown by `run` when its `stop` closure asks it to stop: training has no checkpoint (a
    /// stopped run starts again from the beginning), so the caller discards what it wrote.
    public struct Stopped: Error, Sendable {
        public var iteration: Int, total: Int
    }

    /// Progress of a training run.
    public struct Progress: Sendable {
        public var iteration: Int, total: Int
        public var testAccuracy: Double?
    }

    /// Accuracy of the masked model on `images`, evaluated in chunks without derivatives.
    public func accuracy(_ params: [LayerParameters], masks: [Tensor], on data: LabeledImages,
                         limit: Int? = nil) -> Double {
        accuracy(params, masks: IndexedMasks(model: model, masks: masks), on: data, limit: limit)
    }

    /// `accuracy` with masks listed beforehand (sparse layers skip their pruned weights).
    func accuracy(_ params: [LayerParameters], masks: IndexedMasks, on data: LabeledImages,
                  limit: Int? = nil) -> Double {
        let n = min(limit ?? data.count, data.count)
        guard n > 0 else { return .nan }
        var correct = 0
        var start = 0
        while start < n {
            let end = min(start + 1000, n)
            let (images, labels) = data.batch(Array(start..<end))
            let logits = withoutDerivatives { model.apply(params, masks: masks, to: model.prepare(images)) }
            correct += zip(Self.predictedClasses(logits), labels).filter { $0 == $1 }.count
            start = end
        }
        return Double(correct) / Double(n)
    }

    /// The predicted class of each row of `logits` [N, k]: the first index of its largest value.
    public static func predictedClasses(_ logits: Tensor) -> [Int] {
        let k = logits.shape[1]
        return (0..<logits.shape[0]).map { i in
            let row = logits.scalars[(i * k)..<((i + 1) * k)]
            return row.firstIndex(of: row.max()!)! - i * k
        }
    }

    /// The order in which a run sees its training examples: the same for every run with the same
    /// data, seed, batch size and validation fraction, whatever its initialisation or density
    /// (so a sparse run and its dense reference train in lockstep).
    public func batchOrder() -> BatchOrder {
        BatchOrder(count: train.count, batchSize: config.batchSize, seed: config.seed)
    }

    /// The images of a training batch (what `run` trains on for `indices` from `batchOrder()`).
    public func trainingBatch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) { train.batch(indices) }

    /// A digest (FNV-1a, 64 bits, hex) of the run's data order: every index `batchOrder()` gives over
    /// `totalIterations`, and the bytes of the first batch's images and labels. Two runs with the
    /// same digest train on the same bytes in the same order.
    public func dataOrderDigest() -> String {
        var digest = DataDigest()
        var order = batchOrder()
        let first = trainingBatch(order.next())
        digest.add(first.images)
        digest.add(first.labels)
        order = batchOrder()
        for _ in 0..<totalIterations { digest.add(order.next()) }
        return digest.hex
    }

    /// Training keeps masks fixed and needs them 0/1 (see `TrainingStep`).
    public static func checkMasks(_ masks: [Tensor]) throws {
        for (l, m) in masks.enumerated() {
            if let bad = m.scalars.first(where: { $0 != 0 && $0 != 1 }) {
                throw NTTError("training needs masks of 0s and 1s; the mask of layer \(l) holds \(bad)")
            }
        }
    }

    /// What a finished training returns: the final record (whole-set accuracies) and the trained
    /// parameters (masked weights).
    public struct Result: Sendable {
        public var record: TrainRecord
        public var parameters: [LayerParameters]
    }

    /// Trains from `initialParameters` with fixed 0/1 `masks`. Every `evaluateEvery` iterations
    /// (and after the last) a record is made and handed to `record` (a run writes it to
    /// `metrics.jsonl`); `progress` is called after every iteration. `observe` sees the (masked)
    /// parameters at every record, just before `record` is called. `stop` is asked after every
    /// iteration but the last; when it says yes, `run` throws `Stopped`.
    public func run(parameters initialParameters: [LayerParameters], masks: [Tensor],
                    observe: (_ iteration: Int, _ parameters: [LayerParameters]) throws -> Void = { _, _ in },
                    record recorded: (TrainRecord) throws -> Void = { _ in },
                    stop: () -> Bool = { false },
                    progress: (Progress) -> Void = { _ in }) throws -> Result {
        try Self.checkMasks(masks)
        var params = zip(initialParameters, masks).map { p, m in
            LayerParameters(weight: withoutDerivatives { p.weight * m }, bias: p.bias)
        }
        var step = TrainingStep(model: model, weightDecay: config.weightDecay, optimizer: config.optimizer,
                                learningRate: config.learningRate, momentum: config.momentum)
        // The masks are fixed: listed once, so sparse layers skip their pruned weights in every step.
        let listed = IndexedMasks(model: model, masks: masks)
        var order = batchOrder()
        let total = totalIterations
        let classes = model.outputCount
        let hasDropout = model.spec.layers.contains { if case .dropout = $0 { return true }; return false }
        var lossSum = 0.0, lossCount = 0
        var last: TrainRecord? = nil
        func record(_ t: Int, final: Bool) throws {
            try observe(t, params)
            let limit = final ? nil : config.evaluationSubset
            let r = TrainRecord(iteration: t, epoch: Double(t) / Double(max(order.batchesPerEpoch, 1)),
                                loss: lossCount > 0 ? lossSum / Double(lossCount) : .nan,
                                trainAccuracy: accuracy(params, masks: listed, on: train, limit: limit),
                                testAccuracy: accuracy(params, masks: listed, on: test, limit: limit),
                                final: final)
            try recorded(r)
            lossSum = 0; lossCount = 0
            last = r
            progress(Progress(iteration: t, total: total, testAccuracy: r.testAccuracy))
        }
        for t in 0..<total {
            let (images, labels) = train.batch(order.next())
            let x = model.prepare(images)
            let y = Tensor.oneHot(labels, classes: classes)
            let dropoutSeed: UInt64? = hasDropout ? config.seed &* 1_000_003 &+ UInt64(t) : nil
            let value = step(&params, masks: listed, x: x, labels: y,
                             learningRate: config.learningRate(at: t, of: total), dropoutSeed: dropoutSeed)
            guard value.isFinite else {
                throw NTTError("the training loss became \(value) at iteration \(t + 1); try a smaller --lr")
            }
            lossSum += Double(value); lossCount += 1
            let done = t + 1
            if done == total {
                try record(done, final: true)
            } else if done % config.evaluateEvery == 0 {
                try record(done, final: false)
            } else {
                progress(Progress(iteration: done, total: total, testAccuracy: last?.testAccuracy))
            }
            if done < total && stop() { throw Stopped(iteration: done, total: total) }
        }
        return Result(record: last!, parameters: params)
    }
}
