import Foundation
import NeuralTangentTransfer

/// The one writer of a run's files: `config.json`, `metrics.jsonl`, safetensors checkpoints and
/// outputs, and `done.json`, all in the `RunJSON` convention and written atomically (a
/// metrics line is appended whole; every other file is written to a temporary file and renamed).
public struct RunFolder: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }
    public init(path: String) { self.init(URL(fileURLWithPath: path)) }

    public var path: String { url.path }
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    public func contains(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

    public static let configName = "config.json"
    public static let metricsName = "metrics.jsonl"
    public static let doneName = "done.json"

    // MARK: Creating

    /// Creates the folder for a new run. An existing folder is refused unless `overwrite`, in
    /// which case it is removed first; the error names `flag` (e.g. `--out`).
    public static func create(_ url: URL, overwrite: Bool, flag: String = "--out") throws -> RunFolder {
        let fm = FileManager.default
        if fm.fileExists(atPath: url.path) {
            guard overwrite else {
                throw NTTError("\(url.path) already exists; choose another \(flag), pass --overwrite, or --resume an interrupted run")
            }
            try fm.removeItem(at: url)
        }
        do { try fm.createDirectory(at: url, withIntermediateDirectories: true) }
        catch { throw NTTError("\(url.path): cannot create the folder (\(error.localizedDescription))") }
        return RunFolder(url)
    }

    /// An existing run folder (for `--resume`).
    public static func existing(_ url: URL, flag: String = "--resume") throws -> RunFolder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw NTTError("\(flag): \(url.path) is not a run folder")
        }
        return RunFolder(url)
    }

    /// A subfolder, created if missing (the demo's and an experiment's run folders).
    public func subfolder(_ name: String) throws -> RunFolder {
        let sub = file(name)
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        return RunFolder(sub)
    }

    // MARK: JSON documents

    /// Writes `config.json`: the settings a run was given plus what it resolved (`RunInfo`),
    /// in one flat object.
    public func writeConfig<Settings: Encodable>(_ settings: Settings, info: RunInfo) throws {
        try writeJSON(ConfigFile(settings: settings, info: info), to: Self.configName)
    }

    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        try AtomicFile.write(try RunJSON.encoder.encode(value), to: file(name).path)
    }

    public func readJSON<T: Decodable>(_ type: T.Type, from name: String, what: String) throws -> T {
        try RunJSON.read(type, from: file(name), what: what)
    }

    public func writeText(_ text: String, to name: String) throws {
        try AtomicFile.writeText(text, to: file(name).path)
    }

    // MARK: Metrics

    /// The metrics log, cut back to `bytes` (0 for a new run; a checkpoint's length on resume).
    public func metrics(keepingFirst bytes: Int = 0) throws -> MetricsLog {
        try MetricsLog(url: file(Self.metricsName), keepingFirst: bytes)
    }

    public func readMetrics<T: Decodable>(_ type: T.Type) throws -> [T] {
        try RunJSON.lines(type, in: file(Self.metricsName))
    }

    // MARK: Tensors

    /// Writes tensors as safetensors under `name`, with `metadata` in the header.
    public func writeTensors(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String], to name: String) throws {
        try SafeTensors.write(tensors, metadata: metadata, to: file(name).path)
    }

    /// Writes a model under the SPEC §5 names: masked weights w ⊙ m, biases and (when given) masks.
    public func writeModel(_ parameters: [LayerParameters], masks: [Tensor]?, metadata: [String: String],
                           to name: String) throws {
        var tensors: [(name: String, tensor: Tensor)] = []
        for (i, p) in parameters.enumerated() {
            let weight = masks.map { m in withoutDerivatives { p.weight * m[i] } } ?? p.weight
            tensors += [(TensorNames.weight(i), weight), (TensorNames.bias(i), p.bias)]
            if let masks { tensors.append((TensorNames.mask(i), masks[i])) }
        }
        try writeTensors(tensors, metadata: metadata, to: name)
    }

    // MARK: Done marker

    /// Whether `done.json` exists: the only test of "finished" for an experiment cell.
    public var isDone: Bool { contains(Self.doneName) }

    public func writeDone<T: Encodable>(_ value: T) throws { try writeJSON(value, to: Self.doneName) }

    /// Removes the folder and everything in it (an unfinished experiment cell being redone).
    public func removeAll() throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(at: url) }
    }
}
