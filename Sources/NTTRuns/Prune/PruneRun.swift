import NeuralTangentTransfer

/// Prunes a fresh initialisation with one method and writes it as `init.safetensors` (SPEC §5
/// names) with `config.json`; `ntt train --init FOLDER` starts from it.
public struct PruneRun {
    public static let outputName = "init.safetensors"
    public let config: PruneConfig

    public init(config: PruneConfig) throws { self.config = try config.validated() }

    /// Returns the initialisation written (its `keptPerLayer` and the model's weight counts).
    public func run(dataset: Dataset, folder: RunFolder) throws
        -> (initialization: SparseInitialization, weightsPerLayer: [Int]) {
        let c = config
        let model = try Model(spec: ModelSpec.resolve(c.model, classes: dataset.classes),
                              imageShape: dataset.imageShape)
        if c.method.needsLabels { try dataset.checkLabelled(by: model) }
        // Scores take a few passes over 100 examples (GraSP a Hessian-vector product): a few training steps' worth.
        try MemoryEstimate.check(3 * MemoryEstimate.trainingStep(model, batch: 128),
                                 what: "pruning \(model.spec) with \(c.method.rawValue)", lower: "the model's size")
        let scope = c.prune.scope(for: c.method)
        let sparse = try Initialization.pruning(c.method).resolve(model: model, density: c.density, scope: scope,
                                                                  seed: c.seed, ntkSapResamples: c.ntkSapResamples) {
            dataset.pruningBatch(for: model)
        }
        let weights = model.parameterShapes.map { $0.weight.reduce(1, *) }
        let metadata = ["model": model.spec.description, "method": c.method.rawValue, "density": String(c.density),
                        "scope": scope.rawValue, "seed": String(c.seed), "tool": "ntt \(NTTVersion.current)"]
        try folder.staged { folder in
            try folder.writeModel(sparse.parameters, masks: sparse.masks, metadata: metadata, to: Self.outputName)
            try folder.writeConfig(c, info: RunInfo(resolvedModel: model.spec.description,
                                                    keptPerLayer: sparse.keptPerLayer, weightsPerLayer: weights,
                                                    pruneScope: scope))
        }
        return (sparse, weights)
    }
}
