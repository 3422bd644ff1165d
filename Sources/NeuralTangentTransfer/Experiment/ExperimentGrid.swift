import Foundation

/// The settings of an experiment: a grid of models × datasets × densities × initialisations ×
/// seeds (written to `experiment.json`; a user's `--config` file has the same keys).
public struct ExperimentConfig: Codable, Sendable, Equatable {
    public var models: [String] = ["lenet-300-100"]
    public var datasets: [String] = [DatasetName.fashionMNIST.rawValue]
    /// Data folder per dataset name (`"*"` applies to every dataset without its own entry).
    public var dataDirectories: [String: String] = [:]
    public var densities: [Double] = [0.01, 0.03, 0.1]
    /// `ntt` (a transfer run's student) or any pruning method.
    public var initializations: [String] = ["ntt", "random", "snip", "dense"]
    public var seeds: [UInt64] = [0, 1, 2]
    public var prune: PruningScope = .layerwise
    public var transferEpochs: Int = 20
    public var transferIterations: Int? = nil
    public var trainEpochs: Int = 50
    public var trainIterations: Int? = nil
    public var evaluateEvery: Int = 100

    public init() {}

    /// The keys of `experiment.json` (snake case), for rejecting misspelt keys in user files.
    public static let keys: Set<String> = [
        "models", "datasets", "data_directories", "densities", "initializations", "seeds", "prune",
        "transfer_epochs", "transfer_iterations", "train_epochs", "train_iterations", "evaluate_every",
    ]

    /// Reads a config file; unknown keys and bad values are errors that name the file.
    public static func load(_ path: String) throws -> ExperimentConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw NTTError("\(path): cannot read the experiment config") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NTTError("\(path): not a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw NTTError("\(path): unknown key '\(unknown)'; expected some of \(keys.sorted().joined(separator: ", "))")
        }
        let config: ExperimentConfig
        do { config = try decoder.decode(ExperimentConfig.self, from: data) }
        catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw NTTError("\(path): wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.dataCorrupted(context) {
            throw NTTError("\(path): bad value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)")
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
        initializations = try c.decodeIfPresent([String].self, forKey: .initializations) ?? d.initializations
        seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? d.seeds
        prune = try c.decodeIfPresent(PruningScope.self, forKey: .prune) ?? d.prune
        transferEpochs = try c.decodeIfPresent(Int.self, forKey: .transferEpochs) ?? d.transferEpochs
        transferIterations = try c.decodeIfPresent(Int.self, forKey: .transferIterations)
        trainEpochs = try c.decodeIfPresent(Int.self, forKey: .trainEpochs) ?? d.trainEpochs
        trainIterations = try c.decodeIfPresent(Int.self, forKey: .trainIterations)
        evaluateEvery = try c.decodeIfPresent(Int.self, forKey: .evaluateEvery) ?? d.evaluateEvery
    }

    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }

    /// Checks every list and budget; messages name the flag.
    public func validate() throws(NTTError) {
        for (name, list) in [("--models", models.count), ("--datasets", datasets.count), ("--densities", densities.count),
                             ("--initializations", initializations.count), ("--seeds", seeds.count)] where list == 0 {
            throw NTTError("\(name) must list at least one value")
        }
        for d in densities where !(d > 0 && d <= 1) { throw NTTError("--densities must be in (0, 1], got \(d)") }
        for name in datasets where DatasetName(rawValue: name) == nil {
            throw NTTError("--datasets: unknown dataset '\(name)'; expected \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for i in initializations where i != "ntt" && PruningMethod(rawValue: i) == nil {
            throw NTTError("--initializations: unknown '\(i)'; expected ntt, \(PruningMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard transferEpochs > 0, trainEpochs > 0 else { throw NTTError("--transfer-epochs and --train-epochs must be positive") }
        if let n = transferIterations, n <= 0 { throw NTTError("--transfer-iterations must be positive, got \(n)") }
        if let n = trainIterations, n <= 0 { throw NTTError("--train-iterations must be positive, got \(n)") }
        guard evaluateEvery > 0 else { throw NTTError("--evaluate-every must be positive, got \(evaluateEvery)") }
        for (list, flag) in [(models, "--models"), (datasets, "--datasets"), (initializations, "--initializations")] where Set(list).count != list.count {
            throw NTTError("\(flag) lists a value twice")
        }
        if Set(densities).count != densities.count || Set(seeds).count != seeds.count { throw NTTError("--densities and --seeds must not repeat values") }
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
                    if initializations.contains("dense") {
                        trains.append(ExperimentCell(kind: .train, model: model, dataset: dataset, density: 1, initialization: "dense", seed: seed))
                    }
                    for density in densities {
                        if initializations.contains("ntt") {
                            transfers.append(ExperimentCell(kind: .transfer, model: model, dataset: dataset, density: density, initialization: "ntt", seed: seed))
                        }
                        for i in initializations where i != "dense" {
                            trains.append(ExperimentCell(kind: .train, model: model, dataset: dataset, density: density, initialization: i, seed: seed))
                        }
                    }
                }
            }
        }
        return transfers + trains
    }
}

/// One independent unit of an experiment: a transfer run, or a supervised run from one
/// initialisation. Its folder is `cells/<id>`; it is finished when `done.json` exists there.
public struct ExperimentCell: Hashable, Codable, Sendable {
    public enum Kind: String, Codable, Sendable { case transfer, train }
    public var kind: Kind
    public var model: String
    public var dataset: String
    /// 1 for `dense`.
    public var density: Double
    public var initialization: String
    public var seed: UInt64

    public init(kind: Kind, model: String, dataset: String, density: Double, initialization: String, seed: UInt64) {
        self.kind = kind; self.model = model; self.dataset = dataset; self.density = density
        self.initialization = initialization; self.seed = seed
    }

    /// A path-safe, unique, readable id: `<model>/<dataset>/<kind>-<init>-d<density>-s<seed>`.
    public var id: String {
        let name: String
        switch kind {
        case .transfer: name = "transfer-d\(density)-s\(seed)"
        case .train: name = initialization == "dense" ? "train-dense-s\(seed)" : "train-\(initialization)-d\(density)-s\(seed)"
        }
        return "\(Self.slug(model))/\(dataset)/\(name)"
    }

    /// The transfer cell a `ntt` training cell starts from.
    public var dependency: ExperimentCell? {
        guard kind == .train && initialization == "ntt" else { return nil }
        return ExperimentCell(kind: .transfer, model: model, dataset: dataset, density: density, initialization: "ntt", seed: seed)
    }

    /// Built-in names as they are; spec strings as their safe characters plus a short hash.
    static func slug(_ model: String) -> String {
        if model.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) { return model }
        var safe = ""
        for c in model {
            let ok = c.isASCII && (c.isLetter || c.isNumber)
            if ok { safe.append(c) } else if !safe.hasSuffix("_") { safe.append("_") }
        }
        var hash: UInt32 = 2_166_136_261  // FNV-1a, so different specs never share a folder
        for byte in model.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return String(safe.prefix(40)) + "-" + String(hash, radix: 16)
    }
}

/// Where an experiment's files live.
public struct ExperimentLayout: Sendable {
    public let root: URL
    public init(root: URL) { self.root = root }

    public var config: URL { root.appendingPathComponent("experiment.json") }
    public var cellsRoot: URL { root.appendingPathComponent("cells") }
    public var logs: URL { root.appendingPathComponent("logs") }
    public var plan: URL { root.appendingPathComponent("plan") }
    public func folder(_ cell: ExperimentCell) -> URL { cellsRoot.appendingPathComponent(cell.id) }
    public func done(_ cell: ExperimentCell) -> URL { folder(cell).appendingPathComponent("done.json") }
    /// Outside the cell folder, so a stale folder can be removed while its lock is held.
    public func lock(_ cell: ExperimentCell) -> URL { cellsRoot.appendingPathComponent(cell.id + ".lock") }
    public func log(_ cell: ExperimentCell) -> URL { logs.appendingPathComponent(cell.id.replacingOccurrences(of: "/", with: "__") + ".log") }
    public func isFinished(_ cell: ExperimentCell) -> Bool { FileManager.default.fileExists(atPath: done(cell).path) }

    /// The experiment stored in the folder, if any.
    public func storedConfig() throws -> ExperimentConfig? {
        guard FileManager.default.fileExists(atPath: config.path) else { return nil }
        return try ExperimentConfig.load(config.path)
    }
}
