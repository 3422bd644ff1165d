import Foundation
import NeuralTangentTransfer

/// The label-free transfer phase (SPEC §2): fit a sparse student's outputs and NTK to a dense
/// teacher's on unlabelled batches, re-pruning by magnitude every `maskUpdateEvery` iterations.
///
/// Its run folder holds `config.json`, `metrics.jsonl`, `student.safetensors` (masked weights,
/// biases, masks), `teacher.safetensors`, `probe.safetensors`, and while it runs
/// `checkpoint.safetensors` (everything needed to resume exactly).
public struct TransferRun {
    public let config: TransferConfig
    public let folder: RunFolder
    public let model: Model
    let data: LabeledImages
    let probe: Tensor

    public static let studentName = "student.safetensors"
    public static let teacherName = "teacher.safetensors"
    public static let probeName = "probe.safetensors"
    public static let checkpointName = "checkpoint.safetensors"

    /// How a call to `run` ended.
    public enum Outcome: Sendable, Equatable {
        case finished
        /// Stopped early (a stop request or `stopAfter`); state is checkpointed and a resumed run continues.
        case interrupted(atIteration: Int)
    }

    /// Sets up the run: resolves the model, splits off the probe. Writes nothing.
    ///
    /// - Parameter dataset: the loaded dataset named in `config` (tests pass synthetic data).
    public init(config: TransferConfig, dataset: Dataset, folder: RunFolder) throws {
        try config.validate()
        self.config = config
        self.folder = folder
        let spec = try ModelSpec.resolve(config.model, classes: dataset.classes)
        model = try Model(spec: spec, imageShape: dataset.imageShape)
        try MemoryEstimate.check(MemoryEstimate.transferStep(model, batch: config.batchSize),
                                 what: "a transfer step of \(spec) with --batch-size \(config.batchSize)",
                                 lower: "--batch-size or the model's size")
        let (train, probeImages) = try Self.split(dataset, config: config)
        data = train
        probe = model.prepare(probeImages)
    }

    /// The training inputs and the probe (the first `batchSize` inputs of a held-out split made
    /// with `validationSplitSeed`, the same for every seed, not yet prepared for a model). A
    /// training run measures its initial kernel distance on this probe too (`InitialDistance`).
    public static func split(_ dataset: Dataset, config: TransferConfig) throws
        -> (train: LabeledImages, probe: Tensor) {
        // The probe needs `batchSize` held-out inputs; small datasets get a larger split.
        let fraction = max(config.validationFraction, Double(config.batchSize) / Double(max(dataset.train.count, 1)))
        let (train, validation) = dataset.train.split(validationFraction: fraction,
                                                      seed: TransferConfig.validationSplitSeed)
        guard validation.count >= config.batchSize else {
            throw NTTError("the validation split has \(validation.count) inputs but the probe needs --batch-size = "
                           + "\(config.batchSize); use a larger dataset or smaller batch")
        }
        guard train.count >= config.batchSize else {
            throw NTTError("the training split has \(train.count) inputs, "
                           + "fewer than --batch-size = \(config.batchSize)")
        }
        return (train, validation.batch(Array(0..<config.batchSize)).images)
    }

    /// Total iterations of the run: an epoch is ⌈N/B⌉ iterations, as in the original (whose batch
    /// stream, like ours, draws complete batches only, so a run sees slightly more than `epochs`
    /// passes).
    public var totalIterations: Int {
        config.iterations ?? config.epochs * ((data.count + config.batchSize - 1) / config.batchSize)
    }

    /// Mutable state of the optimisation; everything a resumed run needs.
    struct State {
        var iteration: Int
        var weights: [Tensor]
        var biases: [Tensor]
        /// The masks with their kept entries listed, once per mask update, for every step and probe
        /// record until the next (`IndexedMasks`).
        var masks: IndexedMasks
        var adam: Adam
        /// Plain SGD (momentum 0, so no state survives a step: nothing to checkpoint).
        var sgd: MomentumSGD
        var order: BatchOrder
        /// Length of `metrics.jsonl` at this state; a resumed run cuts the file back to it.
        var metricsBytes: Int
        /// Seconds of computing before the current process took over this state (0 for a new run;
        /// a checkpoint's `seconds` on resume).
        var secondsBefore: Double = 0

        var parameters: [LayerParameters] { [LayerParameters](weights: weights, biases: biases) }
    }

    /// Runs (or resumes) the transfer until the end or a stop request.
    ///
    /// - Parameters:
    ///   - resume: continue from `checkpoint.safetensors` in the folder.
    ///   - stop: checked between iterations; when set, the run checkpoints and returns `.interrupted`.
    ///   - stopAfter: testing hook: checkpoint and stop after this iteration, as if interrupted.
    ///   - checkpointInterval: seconds between periodic checkpoints.
    public func run(resume: Bool = false, stop: StopFlag? = nil, stopAfter: Int? = nil,
                    checkpointInterval: Double = 180,
                    progress: (TransferProgress) -> Void = { _ in }) throws -> Outcome {
        let existed = FileManager.default.fileExists(atPath: folder.path)
        do {
            return try runLoop(resume: resume, stop: stop, stopAfter: stopAfter, checkpointInterval: checkpointInterval,
                               progress: progress)
        } catch {
            // A failed new run leaves nothing behind, unless it got as far as a checkpoint (resumable).
            if !existed && !folder.contains(Self.checkpointName) { try? folder.removeAll() }
            throw error
        }
    }

    func runLoop(resume: Bool, stop: StopFlag?, stopAfter: Int?, checkpointInterval: Double,
                 progress: (TransferProgress) -> Void) throws -> Outcome {
        let teacher = model.initialize(seed: config.seed)
        let loss = TransferLoss(lambdaKernel: config.lambdaKernel, lambdaL2: config.effectiveLambdaL2(for: model),
                                density: Float(config.density), scope: config.kernelScope)
        let half = config.batchSize / 2
        let probe1 = probe.slice(rows: 0..<half), probe2 = probe.slice(rows: half..<config.batchSize)
        let probeTargets = TransferLoss.Targets.teacher(model: model, parameters: teacher, x1: probe1, x2: probe2)
        let total = totalIterations

        let lock = try folder.begin()
        defer { withExtendedLifetime(lock) {} }
        let segmentStart = Date()
        var state: State
        if let saved = resume ? try loadCheckpoint() : nil {
            state = saved
        } else {
            try folder.writeConfig(config, info: info)
            state = State(iteration: 0, weights: teacher.map(\.weight), biases: teacher.map(\.bias),
                          masks: IndexedMasks(model: model, masks: try initialMasks(teacher)),
                          adam: Adam(learningRate: config.learningRate),
                          sgd: MomentumSGD(learningRate: config.learningRate, momentum: 0),
                          order: BatchOrder(count: data.count, batchSize: config.batchSize, seed: config.seed),
                          metricsBytes: 0)
        }
        // A resumed run checks the records its checkpoint has seen before cutting the file back to them,
        // and shows the last recorded distance until it records the next one.
        let kept = state.iteration > 0
            ? try folder.readMetrics(TransferRecord.self, firstBytes: state.metricsBytes) : []
        var lastNTK = kept.last?.ntkDistance ?? .nan
        let metrics = try folder.metrics(keepingFirst: state.metricsBytes)
        func record(_ s: inout State) throws {
            let terms = withoutDerivatives {
                loss.evaluate(model: model, parameters: s.parameters, masks: s.masks, x1: probe1, x2: probe2,
                              targets: probeTargets)
            }
            let r = TransferRecord(iteration: s.iteration, terms: terms)
            guard r.transferLoss.isFinite else {
                throw NTTError("the transfer loss became \(r.transferLoss) at iteration \(s.iteration); "
                               + "try a smaller --lr")
            }
            try metrics.append(r)
            s.metricsBytes = metrics.bytes
            lastNTK = r.ntkDistance
        }
        if state.iteration == 0 { try record(&state) }
        var lastCheckpoint = Date()
        func seconds() -> Double { state.secondsBefore + Date().timeIntervalSince(segmentStart) }
        progress(TransferProgress(iteration: state.iteration, total: total, ntkDistance: lastNTK, seconds: seconds()))

        while state.iteration < total {
            let indices = state.order.next()
            let x = model.prepare(data.batch(indices).images)
            let x1 = x.slice(rows: 0..<half), x2 = x.slice(rows: half..<config.batchSize)
            let (terms, grads) = loss.valueAndGradient(model: model, parameters: state.parameters, masks: state.masks,
                                                       x1: x1, x2: x2, targets: .teacher(teacher),
                                                       straightThrough: config.prunedUpdates == .dense)
            guard terms.total.scalar.isFinite else {
                throw NTTError("the transfer loss became \(terms.total.scalar) at iteration \(state.iteration + 1); "
                               + "try a smaller --lr")
            }
            var tensors = state.weights + state.biases
            switch config.optimizer {
            case .adam:
                // `frozen`: the masks hold pruned weights and their moments still; biases are never masked.
                let frozen = config.prunedUpdates == .frozen ? state.masks.tensors + state.biases.map { _ in nil } : nil
                state.adam.update(&tensors, gradients: grads.flattened, frozen: frozen)
            case .sgd:
                // Momentum 0: a pruned weight's zero gradient (`momentum`, `frozen`) leaves it as it is.
                state.sgd.update(&tensors, gradients: grads.flattened)
            }
            let layers = state.weights.count
            state.weights = Array(tensors[0..<layers])
            state.biases = Array(tensors[layers...])
            state.iteration += 1
            let t = state.iteration
            // As ntt.py: the probe is evaluated with the masks the step used, then the masks are
            // updated; the last update comes strictly before the last `maskUpdateEvery` iterations.
            if t % config.recordEvery == 0 || t == total { try record(&state) }
            if t % config.maskUpdateEvery == 0 && t < total - config.maskUpdateEvery {
                state.masks = IndexedMasks(model: model, masks: MagnitudePruner.masks(
                    weights: state.weights, density: config.density, scope: config.prune))
            }
            progress(TransferProgress(iteration: t, total: total, ntkDistance: lastNTK, seconds: seconds()))

            let stopping = (stop?.isSet ?? false) || stopAfter == t
            if t < total && (stopping || Date().timeIntervalSince(lastCheckpoint) >= checkpointInterval) {
                try metrics.synchronize()
                try saveCheckpoint(state, seconds: seconds())
                lastCheckpoint = Date()
                if stopping { return .interrupted(atIteration: t) }
            }
        }
        try metrics.synchronize()
        try writeResults(state, teacher: teacher)
        try? FileManager.default.removeItem(at: folder.file(Self.checkpointName))
        return .finished
    }

    /// The probe records of a finished run.
    public func records() throws -> [TransferRecord] { try folder.readMetrics(TransferRecord.self) }

    var info: RunInfo {
        RunInfo(resolvedModel: model.spec.description, totalIterations: totalIterations,
                lambdaL2Effective: Double(config.effectiveLambdaL2(for: model)))
    }

    func initialMasks(_ teacher: [LayerParameters]) throws -> [Tensor] {
        switch config.initialMask {
        case .magnitude:
            return MagnitudePruner.masks(weights: teacher.map(\.weight), density: config.density, scope: config.prune)
        case .logitSnip:
            // SPEC §2: scores on 128 training inputs.
            let count = min(128, data.count)
            let x = model.prepare(data.batch(Array(0..<count)).images)
            return LogitSnipPruner.masks(model: model, parameters: teacher, inputs: x, density: config.density,
                                         scope: config.prune)
        }
    }
}
