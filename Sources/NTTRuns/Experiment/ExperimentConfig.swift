import Foundation
import NeuralTangentTransfer

/// The settings of an experiment: a grid of models × datasets × densities × initialisations ×
/// seeds (written to `experiment.json`; a user's `--config` file has the same keys).
public struct ExperimentConfig: Codable, Sendable, Equatable {
    public var models: [String] = ["lenet-300-100"]
    public var datasets: [String] = [DatasetName.fashionMNIST.rawValue]
    /// Data folder per dataset name (`"*"` applies to every dataset without its own entry).
    public var dataDirectories: [String: String] = [:]
    public var densities: [Double] = [0.01, 0.03, 0.1]
    /// `ntt` (a transfer run's student) or any pruning method.
    public var initializations: [InitializationMethod] = [.ntt, .pruning(.random), .pruning(.snip), .pruning(.dense)]
    public var seeds: [UInt64] = [0, 1, 2]
    /// Scope of the baselines' masks (each method's own by default); transfers prune layer-wise
    /// unless `global` is asked for.
    public var prune: PruningScopeChoice = .native
    /// `ntk-sap`'s fresh draws of θ per round (the reference's `--ntksap_R`).
    public var ntkSapResamples: Int = NtkSapPruner.defaultResamples
    public var transferEpochs: Int = 20
    public var transferIterations: Int? = nil
    public var trainEpochs: Int = 50
    public var trainIterations: Int? = nil
    public var evaluateEvery: Int = 100

    public init() {}

    /// The keys of `experiment.json` (snake case), for rejecting misspelt keys in user files.
    public static let keys: Set<String> = [
        "models", "datasets", "data_directories", "densities", "initializations", "seeds", "prune", "ntk_sap_resamples",
        "transfer_epochs", "transfer_iterations", "train_epochs", "train_iterations", "evaluate_every",
    ]

    /// Reads a config file; unknown keys and bad values are errors that name the file.
    public static func load(_ path: String) throws -> ExperimentConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NTTError("\(path): cannot read the experiment config")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NTTError("\(path): not a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            let expected = keys.sorted().joined(separator: ", ")
            throw NTTError("\(path): unknown key '\(unknown)'; expected some of \(expected)")
        }
        let config: ExperimentConfig
        do { config = try RunJSON.decoder.decode(ExperimentConfig.self, from: data) }
        catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw NTTError("\(path): wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.dataCorrupted(context) {
            let keyPath = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw NTTError("\(path): bad value at '\(keyPath)': \(context.debugDescription)")
        }
        do { try config.validate() } catch { throw NTTError("\(path): \(error)") }
        return config
    }

    /// Missing keys take their defaults, so a config file need only say what differs.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ExperimentConfig()
        models = try c.decodeIfPresent([String].self, forKey: .models) ?? d.models
        datasets = try c.decodeIfPresent([String].self, forKey: .datasets) ?? d.datasets
        dataDirectories = try c.decodeIfPresent([String: String].self, forKey: .dataDirectories) ?? d.dataDirectories
        densities = try c.decodeIfPresent([Double].self, forKey: .densities) ?? d.densities
        initializations = try c.decodeIfPresent([InitializationMethod].self, forKey: .initializations)
            ?? d.initializations
        seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? d.seeds
        prune = try c.decodeIfPresent(PruningScopeChoice.self, forKey: .prune) ?? d.prune
        ntkSapResamples = try c.decodeIfPresent(Int.self, forKey: .ntkSapResamples) ?? d.ntkSapResamples
        transferEpochs = try c.decodeIfPresent(Int.self, forKey: .transferEpochs) ?? d.transferEpochs
        transferIterations = try c.decodeIfPresent(Int.self, forKey: .transferIterations)
        trainEpochs = try c.decodeIfPresent(Int.self, forKey: .trainEpochs) ?? d.trainEpochs
        trainIterations = try c.decodeIfPresent(Int.self, forKey: .trainIterations)
        evaluateEvery = try c.decodeIfPresent(Int.self, forKey: .evaluateEvery) ?? d.evaluateEvery
    }

    /// Checks every list and budget; messages name the flag.
    public func validate() throws(NTTError) {
        for (name, list) in [("--models", models.count), ("--datasets", datasets.count),
                             ("--densities", densities.count), ("--initializations", initializations.count),
                             ("--seeds", seeds.count)] where list == 0 {
            throw NTTError("\(name) must list at least one value")
        }
        for d in densities where !(d > 0 && d <= 1) { throw NTTError("--densities must be in (0, 1], got \(d)") }
        for name in datasets {
            let parts: [DatasetName]
            do { parts = try DatasetName.parse(name) } catch { throw NTTError("--datasets: \(error)") }
            guard parts.count == 1 else {
                throw NTTError("--datasets: '\(name)' is a label-free union, "
                               + "usable by ntt transfer only (cells also train)")
            }
        }
        guard transferEpochs > 0, trainEpochs > 0 else {
            throw NTTError("--transfer-epochs and --train-epochs must be positive")
        }
        try NtkSapPruner.checkResamples(ntkSapResamples)
        if let n = transferIterations, n <= 0 { throw NTTError("--transfer-iterations must be positive, got \(n)") }
        if let n = trainIterations, n <= 0 { throw NTTError("--train-iterations must be positive, got \(n)") }
        guard evaluateEvery > 0 else { throw NTTError("--evaluate-every must be positive, got \(evaluateEvery)") }
        for (list, flag) in [(models, "--models"), (datasets, "--datasets")] where Set(list).count != list.count {
            throw NTTError("\(flag) lists a value twice")
        }
        if Set(initializations).count != initializations.count {
            throw NTTError("--initializations lists a value twice")
        }
        if Set(densities).count != densities.count || Set(seeds).count != seeds.count {
            throw NTTError("--densities and --seeds must not repeat values")
        }
    }

    public func dataDirectory(for dataset: String) -> String? {
        dataDirectories[dataset] ?? dataDirectories["*"]
    }

    /// Every cell, transfer cells first, in a fixed order.
    public var cells: [ExperimentCell] {
        var transfers: [ExperimentCell] = [], trains: [ExperimentCell] = []
        for model in models {
            for dataset in datasets {
                for seed in seeds {
                    func cell(_ kind: ExperimentCell.Kind, _ density: Double,
                              _ i: InitializationMethod) -> ExperimentCell {
                        ExperimentCell(kind: kind, model: model, dataset: dataset, density: density,
                                       initialization: i, seed: seed)
                    }
                    if initializations.contains(where: \.isDense) { trains.append(cell(.train, 1, .pruning(.dense))) }
                    for density in densities {
                        if initializations.contains(.ntt) { transfers.append(cell(.transfer, density, .ntt)) }
                        for i in initializations where !i.isDense { trains.append(cell(.train, density, i)) }
                    }
                }
            }
        }
        return transfers + trains
    }
}
