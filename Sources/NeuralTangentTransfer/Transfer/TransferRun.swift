import Foundation
import NTTLayers

/// One probe record of a transfer run (a line of `metrics.jsonl`).
public struct TransferRecord: Codable, Sendable, Equatable {
    public var iteration: Int
    public var transferLoss: Double
    public var ntkDistance: Double
    public var targetDistance: Double
    public var l2: Double

    enum CodingKeys: String, CodingKey {
        case iteration, l2
        case transferLoss = "transfer_loss", ntkDistance = "ntk_distance"
        case targetDistance = "target_distance"
    }
}

/// Progress of a running transfer, for a progress bar.
public struct TransferProgress: Sendable {
    public var iteration: Int
    public var total: Int
    /// The NTK distance at the latest probe record.
    public var ntkDistance: Double
}

/// The label-free transfer phase (SPEC §2): fit a sparse student's outputs and NTK to a dense
/// teacher's on unlabelled batches, re-pruning by magnitude every `maskUpdateEvery` iterations.
///
/// A run folder holds `config.json`, `metrics.jsonl`, `student.safetensors` (masked weights,
/// biases, masks), `teacher.safetensors`, `probe.safetensors`, and while it runs
/// `checkpoint.safetensors` (everything needed to resume exactly).
public struct TransferRun {
    public let config: TransferConfig
    public let directory: URL
    public let model: Model
    let data: LabeledImages
    let probe: Tensor

    /// How a call to `run` ended.
    public enum Outcome: Sendable, Equatable {
        case finished
        /// Stopped early (signal or `stopAfter`); state is checkpointed and `--resume` continues.
        case interrupted(atIteration: Int)
    }

    /// Sets up the run: loads data, resolves the model, prepares the folder.
    ///
    /// - Parameters:
    ///   - dataset: the loaded dataset named in `config` (loading is the caller's job, so tests
    ///     can pass synthetic data).
    ///   - resume: continue from the checkpoint in `directory`; otherwise the folder must not
    ///     exist (or `overwrite` must be set).
    public init(config: TransferConfig, dataset: Dataset, directory: URL) throws {
        try config.validate()
        self.config = config
        self.directory = directory
        let spec = try ModelSpec.resolve(config.model, classes: dataset.classes)
        model = try Model(spec: spec, imageShape: dataset.imageShape)
        // The probe needs `batchSize` held-out inputs; small datasets get a larger split.
        let fraction = max(config.validationFraction, Double(config.batchSize) / Double(max(dataset.train.count, 1)))
        let (train, validation) = dataset.train.split(validationFraction: fraction, seed: config.seed)
        guard validation.count >= config.batchSize else {
            throw NTTError("the validation split has \(validation.count) inputs but the probe needs --batch-size = \(config.batchSize); use a larger dataset or smaller batch")
        }
        guard train.count >= config.batchSize else {
            throw NTTError("the training split has \(train.count) inputs, fewer than --batch-size = \(config.batchSize)")
        }
        data = train
        probe = model.prepare(validation.batch(Array(0..<config.batchSize)).images)
    }

    /// Total iterations of the run.
    public var totalIterations: Int {
        config.iterations ?? config.epochs * (data.count / config.batchSize)
    }

    /// Mutable state of the optimisation; everything `--resume` needs.
    struct State {
        var iteration: Int
        var weights: [Tensor]
        var biases: [Tensor]
        var masks: [Tensor]
        var adam: Adam
        var order: BatchOrder
        /// Length of `metrics.jsonl` at this state; a resumed run cuts the file back to it.
        var metricsBytes: Int
    }

    /// Runs (or resumes) the transfer until the end or an interruption.
    ///
    /// - Parameters:
    ///   - resume: continue from `checkpoint.safetensors` in the folder.
    ///   - stopAfter: testing hook: checkpoint and stop after this iteration, as if interrupted.
    ///   - checkpointInterval: seconds between periodic checkpoints.
    public func run(resume: Bool = false, stopAfter: Int? = nil, checkpointInterval: Double = 180,
                    progress: (TransferProgress) -> Void = { _ in }) throws -> Outcome {
        let files = RunFiles(directory: directory)
        let teacher = model.initialize(seed: config.seed)
        let loss = TransferLoss(lambdaKernel: config.lambdaKernel, lambdaL2: config.effectiveLambdaL2(for: model),
                                density: Float(config.density), scope: config.kernelScope)
        let half = config.batchSize / 2
        let probe1 = probe.slice(rows: 0..<half), probe2 = probe.slice(rows: half..<config.batchSize)
        let probeTargets = TransferLoss.Targets.teacher(model: model, parameters: teacher, x1: probe1, x2: probe2)
        let total = totalIterations

        var state: State
        if resume {
            state = try loadCheckpoint(files)
        } else {
            try writeConfig(files)
            state = State(iteration: 0, weights: teacher.map(\.weight), biases: teacher.map(\.bias),
                          masks: try initialMasks(teacher), adam: Adam(learningRate: config.learningRate),
                          order: BatchOrder(count: data.count, batchSize: config.batchSize, seed: config.seed),
                          metricsBytes: 0)
            try Data().write(to: files.metrics)
        }
        func parameters(_ s: State) -> [LayerParameters] {
            zip(s.weights, s.biases).map { LayerParameters(weight: $0, bias: $1) }
        }
        let metrics = try FileHandle(forWritingTo: files.metrics)
        defer { try? metrics.close() }
        try metrics.truncate(atOffset: UInt64(state.metricsBytes))
        try metrics.seekToEnd()
        var lastNTK = Double.nan
        func record(_ s: inout State) throws {
            let t = withoutDerivatives {
                loss.evaluate(model: model, parameters: parameters(s), masks: s.masks, x1: probe1, x2: probe2, targets: probeTargets)
            }
            let r = TransferRecord(iteration: s.iteration, transferLoss: Double(t.total.scalar),
                                   ntkDistance: Double(t.ntkDistance.scalar), targetDistance: Double(t.targetDistance.scalar),
                                   l2: Double(t.l2.scalar))
            guard r.transferLoss.isFinite else {
                throw NTTError("the transfer loss became \(r.transferLoss) at iteration \(s.iteration); try a smaller --lr")
            }
            let line = try JSONLines.encode(r)
            try metrics.write(contentsOf: line)
            s.metricsBytes += line.count
            lastNTK = r.ntkDistance
        }
        if state.iteration == 0 { try record(&state) }
        var lastCheckpoint = Date()
        progress(TransferProgress(iteration: state.iteration, total: total, ntkDistance: lastNTK))

        while state.iteration < total {
            let indices = state.order.next()
            let x = model.prepare(data.batch(indices).images)
            let x1 = x.slice(rows: 0..<half), x2 = x.slice(rows: half..<config.batchSize)
            let targets = TransferLoss.Targets.teacher(model: model, parameters: teacher, x1: x1, x2: x2)
            let (terms, grads) = loss.valueAndGradient(model: model, parameters: parameters(state), masks: state.masks,
                                                       x1: x1, x2: x2, targets: targets)
            guard terms.total.scalar.isFinite else {
                throw NTTError("the transfer loss became \(terms.total.scalar) at iteration \(state.iteration + 1); try a smaller --lr")
            }
            var tensors = state.weights + state.biases
            state.adam.update(&tensors, gradients: grads.map(\.weight) + grads.map(\.bias))
            let layers = state.weights.count
            state.weights = Array(tensors[0..<layers])
            state.biases = Array(tensors[layers...])
            state.iteration += 1
            let t = state.iteration
            if t % config.maskUpdateEvery == 0 && t <= total - config.maskUpdateEvery {
                state.masks = MagnitudePruner.masks(weights: state.weights, density: config.density, scope: config.prune)
            }
            if t % config.recordEvery == 0 || t == total { try record(&state) }
            progress(TransferProgress(iteration: t, total: total, ntkDistance: lastNTK))

            let stop = StopFlag.interrupt.isSet || stopAfter == t
            if t < total && (stop || Date().timeIntervalSince(lastCheckpoint) >= checkpointInterval) {
                try metrics.synchronize()
                try saveCheckpoint(state, files)
                lastCheckpoint = Date()
                if stop { return .interrupted(atIteration: t) }
            }
        }
        try metrics.synchronize()
        try writeResults(state, teacher: teacher, files)
        try? FileManager.default.removeItem(at: files.checkpoint)
        return .finished
    }
}
