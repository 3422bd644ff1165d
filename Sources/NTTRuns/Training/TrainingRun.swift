import Foundation
import NeuralTangentTransfer

/// A supervised run (SPEC §3) from an `Initialization`: resolves the model and the sparse
/// initialisation, trains with fixed masks, and writes `config.json` (with the initial distance to
/// the dense network, `InitialDistance`), `metrics.jsonl` (one record every `evaluateEvery`
/// iterations; the last on the whole sets; with a reference, each with its `ProbeComparison`),
/// `probe-outputs.safetensors` (`ProbeOutputs`) and `model.safetensors`.
public struct TrainingRun {
    public static let outputName = "model.safetensors"

    public let config: TrainingRunConfig

    public init(config: TrainingRunConfig) throws { self.config = try config.validated() }

    /// What a finished run reports.
    public struct Outcome: Sendable {
        public var record: TrainRecord
        public var seconds: Double
        public var keptPerLayer: [Int]
        public var weightsPerLayer: [Int]
        /// The scope the masks were chosen in, when a pruning method chose them.
        public var pruneScope: PruningScope?
        /// The distances to the dense network at the start, when the initialisation names one.
        public var initialDistance: InitialDistance?
        /// With a reference: the comparison at iteration 0 and at every record.
        public var trajectory: [ProbeComparison] = []
    }

    /// Trains on `dataset` (the one the config names, loaded by the caller) into `folder`. When
    /// `stop` is raised, throws `Trainer.Stopped` between iterations and leaves `folder` as it was.
    public func run(dataset: Dataset, folder: RunFolder, stop: StopFlag? = nil,
                    progress: (Trainer.Progress) -> Void = { _ in }) throws -> Outcome {
        let c = config.training
        let model = try Model(spec: ModelSpec.resolve(c.model, classes: dataset.classes),
                              imageShape: dataset.imageShape)
        try dataset.checkLabelled(by: model)
        try MemoryEstimate.check(MemoryEstimate.trainingStep(model, batch: c.batchSize),
                                 what: "a training step of \(model.spec) with --batch-size \(c.batchSize)",
                                 lower: "--batch-size or the model's size")
        let trainer = try Trainer(config: c, model: model, dataset: dataset)
        let scope = c.prune.scope(for: config.initialization.method)
        let sparse = try config.initialization.resolve(model: model, density: c.density, scope: scope, seed: c.seed,
                                                       ntkSapResamples: c.ntkSapResamples) {
            dataset.pruningBatch(for: model)
        }
        try Trainer.checkMasks(sparse.masks)
        let probe = ProbeOutputs.probe(dataset, model: model)
        var probeOutputs = ProbeOutputs(fingerprint: .init(
            model: model.spec.description, dataset: c.dataset, seed: c.seed, batchSize: c.batchSize,
            validationFraction: c.validationFraction, evaluateEvery: c.evaluateEvery,
            totalIterations: trainer.totalIterations, probeInputs: probe.shape[0],
            probeDigest: { var d = DataDigest(); d.add(probe); return d.hex }(),
            dataOrderDigest: trainer.dataOrderDigest()))
        let reference = try config.reference.map { path in
            let outputs = try ProbeOutputs.load(path)
            try ProbeOutputs.check(outputs, against: probeOutputs.fingerprint, path: path)
            return outputs
        }
        var trajectory: [ProbeComparison] = []
        // Outputs of the masked network: before the first iteration here, then at every record.
        func observe(_ iteration: Int, _ parameters: [LayerParameters]) throws {
            let y = withoutDerivatives { model.apply(parameters, masks: sparse.masks, to: probe) }
            probeOutputs.append(iteration: iteration, outputs: y)
            guard let reference else { return }
            guard let r = reference.outputs(at: iteration) else {
                throw NTTError("--reference \(config.reference!): no outputs at iteration \(iteration)")
            }
            trajectory.append(ProbeComparison(iteration: iteration, outputs: y, reference: r))
        }
        let weights = model.parameterShapes.map { $0.weight.reduce(1, *) }
        var info = RunInfo(resolvedModel: model.spec.description, keptPerLayer: sparse.keptPerLayer,
                           weightsPerLayer: weights, totalIterations: trainer.totalIterations,
                           pruneScope: config.initialization.method == nil ? nil : scope)
        info.initialDistance = try InitialDistance.measure(config.initialization, sparse: sparse, model: model,
                                                           seed: c.seed, dataset: dataset)
        try observe(0, sparse.parameters)
        info.initialComparison = trajectory.first
        let start = Date()
        // Written into a staging folder and moved into place at the end: a failed or stopped run
        // leaves nothing (training restarts from the beginning anyway).
        let result = try folder.staged { folder in
            try folder.writeConfig(config, info: info)
            let metrics = try folder.metrics()
            let result = try trainer.run(parameters: sparse.parameters, masks: sparse.masks, observe: observe,
                                         record: { record in
                var r = record
                if let last = trajectory.last, last.iteration == r.iteration {
                    r.outputDistance = last.outputDistance; r.agreement = last.agreement
                }
                try metrics.append(r)
            }, stop: { stop?.isSet ?? false }, progress: progress)
            try metrics.synchronize()
            try probeOutputs.write(to: folder)
            let metadata = ["model": model.spec.description,
                            "input_shape": model.inputShape.map(String.init).joined(separator: ","),
                            "initialization": config.initialization.description, "density": String(c.density),
                            "seed": String(c.seed), "tool": "ntt \(NTTVersion.current)",
                            "test_accuracy": String(result.record.testAccuracy)]
            try folder.writeModel(result.parameters, masks: sparse.masks, metadata: metadata, to: Self.outputName)
            return result
        }
        return Outcome(record: result.record, seconds: Date().timeIntervalSince(start),
                       keptPerLayer: sparse.keptPerLayer, weightsPerLayer: weights, pruneScope: info.pruneScope,
                       initialDistance: info.initialDistance, trajectory: trajectory)
    }
}
