import ArgumentParser
import Foundation
import NeuralTangentTransfer

/// Options that describe a sparse initialisation to start from.
struct InitializationOptions: ParsableArguments {
    @Option(help: "Model: \(ModelSpec.builtinNames.joined(separator: ", ")), or a spec such as 'dense(300),relu,dense(10)'.")
    var model = "lenet-300-100"
    @Option(help: "Fraction of weights kept, in (0, 1].") var density = 0.03
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Pruning scope: layerwise or global.") var prune: PruningScope = .layerwise

    func validate() throws {
        guard density > 0 && density <= 1 else { throw ValidationError("--density must be in (0, 1], got \(density)") }
    }

    var settings: InitializationSettings {
        InitializationSettings(model: model, density: density, seed: seed, prune: prune)
    }
}

/// The plain values behind `InitializationOptions` (parsable types cannot be built by hand).
struct InitializationSettings {
    var model: String
    var density: Double
    var seed: UInt64
    var prune: PruningScope

    /// Fresh parameters pruned by `method`, using the first 100 training examples (128 for
    /// CIFAR-10) where the method needs data.
    func initialize(_ method: PruningMethod, model m: Model, train: LabeledImages, dataset: String) throws -> SparseInitialization {
        let count = min(dataset == DatasetName.cifar10.rawValue ? 128 : 100, train.count)
        let (images, labels) = train.batch(Array(0..<count))
        return try method.initialize(model: m, density: density, scope: prune, seed: seed,
                                     batch: method.needsInputs ? (m.prepare(images), labels) : nil)
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Supervised training of a sparse network from a given initialisation; reports test accuracy.",
        discussion: """
        --init is a transfer run folder (its student.safetensors), a prune run folder, a safetensors \
        checkpoint, or a method: \(PruningMethod.allCases.map(\.rawValue).joined(separator: ", ")). \
        Masks stay fixed. Writes config.json, metrics.jsonl (iteration, loss, train_accuracy, \
        test_accuracy; periodic accuracies on fixed 2000-example subsets, the last record on the \
        whole sets) and model.safetensors into --out.
        """)

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var initialization: InitializationOptions
    @Option(help: "Initialisation: a run folder, a checkpoint, or a method name.") var `init`: String
    @Option(help: "Epochs.") var epochs = 50
    @Option(help: "Iterations (overrides --epochs).") var iterations: Int?
    @Option(help: "Batch size.") var batchSize = 64
    @Option(help: "Optimizer: adam or sgd.") var optimizer: TrainConfig.OptimizerKind = .adam
    @Option(name: .customLong("lr"), help: "Learning rate.") var learningRate: Float = 1e-3
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(help: "L2 coefficient λ on masked weights.") var weightDecay: Float = 1e-8
    @Option(help: "Learning-rate schedule: constant, cosine or step.") var schedule: TrainConfig.Schedule = .constant
    @Option(help: "Evaluate accuracy every this many iterations.") var evaluateEvery = 100

    func run() throws { try compute.run(work) }

    private func work() throws {
        let result = try Self.train(initialization: `init`, options: initialization.settings, data: data, directory: try output.prepare(),
                                    configure: { c in
            c.epochs = epochs; c.iterations = iterations; c.batchSize = batchSize; c.optimizer = optimizer
            c.learningRate = learningRate; c.momentum = momentum; c.weightDecay = weightDecay
            c.schedule = schedule; c.evaluateEvery = evaluateEvery
        })
        print(String(format: "test accuracy %.2f%% (train %.2f%%) after %d iterations, %.1f s; results in %@",
                     result.record.testAccuracy * 100, result.record.trainAccuracy * 100, result.record.iteration,
                     result.seconds, output.out))
    }

    struct Outcome { let record: TrainRecord; let seconds: Double; let kept: [Int]; let weights: [Int] }

    /// Resolves the initialisation, trains, and writes the run folder. Shared with `demo`.
    static func train(initialization text: String, options: InitializationSettings, data: DataOptions, directory: URL,
                      dataset loaded: Dataset? = nil, label: String = "train",
                      configure: (inout TrainConfig) -> Void) throws -> Outcome {
        var c = TrainConfig()
        c.model = options.model; c.dataset = data.dataset; c.dataDirectory = data.dataDir
        c.initialization = text; c.density = options.density; c.prune = options.prune; c.seed = options.seed
        configure(&c)
        try c.validate()
        let dataset = try loaded ?? data.load()
        let model = try Model(spec: ModelSpec.resolve(options.model, classes: dataset.classes), imageShape: dataset.imageShape)
        let trainer = try Trainer(config: c, model: model, dataset: dataset)
        let sparse: SparseInitialization
        if let method = PruningMethod(rawValue: text) {
            sparse = try options.initialize(method, model: model, train: dataset.train, dataset: data.dataset)
        } else if FileManager.default.fileExists(atPath: text) {
            sparse = try SparseInitialization.load(text, model: model)
        } else {
            throw NTTError("--init '\(text)' is neither a run folder, a checkpoint, nor a method (\(PruningMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as! [String: Any]
        object["resolved_model"] = model.spec.description
        object["kept_per_layer"] = sparse.keptPerLayer
        object["weights_per_layer"] = model.parameterShapes.map { $0.weight.reduce(1, *) }
        object["tool_version"] = NTTVersion.current
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]),
                             to: directory.appendingPathComponent("config.json").path)
        let bar = ProgressBar(total: trainer.totalIterations, label: label)
        let start = Date()
        let record = try trainer.run(parameters: sparse.parameters, masks: sparse.masks, directory: directory) { p in
            bar.update(p.iteration, status: p.testAccuracy.map { String(format: "test %.2f%%", $0 * 100) } ?? "")
        }
        bar.finish()
        return Outcome(record: record, seconds: Date().timeIntervalSince(start), kept: sparse.keptPerLayer,
                       weights: model.parameterShapes.map { $0.weight.reduce(1, *) })
    }
}

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a fresh initialisation with a pruning-at-init method and write it (init.safetensors).")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var initialization: InitializationOptions
    @Option(help: "Method: \(PruningMethod.allCases.map(\.rawValue).joined(separator: ", ")).") var method: PruningMethod

    func run() throws { try compute.run(work) }

    private func work() throws {
        let dataset = try data.load()
        let model = try Model(spec: ModelSpec.resolve(initialization.model, classes: dataset.classes), imageShape: dataset.imageShape)
        let directory = try output.prepare()
        let sparse = try initialization.settings.initialize(method, model: model, train: dataset.train, dataset: data.dataset)
        try sparse.write(to: directory.appendingPathComponent("init.safetensors").path,
                         metadata: ["model": model.spec.description, "method": method.rawValue, "density": String(initialization.density),
                                    "scope": initialization.prune.rawValue, "seed": String(initialization.seed), "tool": "ntt \(NTTVersion.current)"])
        let summary: [String: Any] = ["method": method.rawValue, "model": model.spec.description, "density": initialization.density,
                                      "scope": initialization.prune.rawValue, "seed": initialization.seed,
                                      "kept_per_layer": sparse.keptPerLayer, "weights_per_layer": model.parameterShapes.map { $0.weight.reduce(1, *) },
                                      "tool_version": NTTVersion.current]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys]),
                             to: directory.appendingPathComponent("config.json").path)
        let total = model.parameterShapes.map { $0.weight.reduce(1, *) }
        print("kept per layer: " + zip(sparse.keptPerLayer, total).map { "\($0)/\($1)" }.joined(separator: ", "))
        print("wrote \(directory.appendingPathComponent("init.safetensors").path)")
    }
}

extension PruningMethod: ExpressibleByArgument {}
extension TrainConfig.OptimizerKind: ExpressibleByArgument {}
extension TrainConfig.Schedule: ExpressibleByArgument {}
