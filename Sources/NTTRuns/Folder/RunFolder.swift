import Foundation
import NeuralTangentTransfer
#if canImport(Glibc)
import Glibc
#endif

/// The one writer of a run's files: `config.json`, `metrics.jsonl`, safetensors checkpoints and
/// outputs, and `done.json`, all in the `RunJSON` convention and written atomically (a
/// metrics line is appended whole; every other file is written to a temporary file and renamed).
public struct RunFolder: Sendable {
    public let url: URL

    public var path: String { url.path }
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    public func contains(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

    public static let configName = "config.json"
    public static let metricsName = "metrics.jsonl"
    public static let doneName = "done.json"

    /// What `begin()` does before the first write.
    enum Start: Sendable { case existing, create, replace }
    let start: Start

    /// A folder to read, or to write as it is (created if missing; nothing is removed).
    public init(_ url: URL) { self.init(url, start: .existing) }
    public init(path: String) { self.init(URL(fileURLWithPath: path)) }
    init(_ url: URL, start: Start) { self.url = url; self.start = start }

    // MARK: Creating

    /// The folder of a new run. Only checks now (the folder is made by `begin()`, once the run
    /// has validated everything): an existing path is refused unless `overwrite`, and even then
    /// only a folder that ntt wrote (or an empty one) may be replaced; never a file, a device,
    /// the working folder or one of its parents. Errors name `flag`.
    ///
    /// - Parameter resumable: whether the command has `--resume` (then the refusal suggests it).
    public static func create(_ url: URL, overwrite: Bool, flag: String = "--out",
                              resumable: Bool = false) throws -> RunFolder {
        let url = url.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            return RunFolder(url, start: .create)
        }
        guard overwrite else {
            let hint = resumable ? ", pass --overwrite, or --resume an interrupted run" : " or pass --overwrite"
            throw NTTError("\(flag) \(url.path) already exists; choose another \(flag)\(hint)")
        }
        try checkReplaceable(url, flag: flag)
        return RunFolder(url, start: .replace)
    }

    /// An existing run folder (for `--resume`).
    public static func existing(_ url: URL, flag: String = "--resume") throws -> RunFolder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw NTTError("\(flag): \(url.path) is not a run folder")
        }
        return RunFolder(url, start: .existing)
    }

    /// The marker `begin()` leaves in every folder it makes: `--overwrite` replaces only such
    /// folders (and, for runs written before the marker existed, folders with an ntt config).
    public static let markerName = ".ntt-run"

    /// Whether --overwrite may remove `url`: an empty folder, or one that ntt wrote.
    static func checkReplaceable(_ url: URL, flag: String) throws {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
        let path = url.standardizedFileURL.path
        guard isDirectory.boolValue else {
            throw NTTError("\(flag) \(path) exists and is not a folder; --overwrite replaces only run folders")
        }
        guard path != "/" && cwd != path && !cwd.hasPrefix(path + "/") else {
            throw NTTError("\(flag) \(path) is the working folder or one of its parents; "
                           + "--overwrite will not remove it")
        }
        let folder = RunFolder(url)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let written = folder.contains(markerName) || entries.isEmpty
            || ((try? String(contentsOf: folder.file(configName), encoding: .utf8))?.contains("tool_version") ?? false)
        guard written else {
            throw NTTError("\(flag) \(path) is not a folder ntt wrote; "
                           + "--overwrite will not remove it (remove it yourself)")
        }
    }

    /// Makes the folder ready for the run's first write and returns the lock the run holds
    /// while it writes: a replaced run folder is removed first (unless another process is
    /// writing it), a missing one is created, stale temporary files of killed writers are removed.
    public func begin() throws -> FileLock {
        let fm = FileManager.default
        switch start {
        case .replace:
            try removeReplacedRun()
        case .create:
            if fm.fileExists(atPath: url.path) {
                throw NTTError("--out \(url.path) appeared while the run was starting")
            }
        case .existing:
            break
        }
        do { try fm.createDirectory(at: url, withIntermediateDirectories: true) }
        catch { throw NTTError("\(url.path): cannot create the folder (\(error.localizedDescription))") }
        let lock = try FileLock.takeFolder(url)
        if !contains(Self.markerName) { try writeText("ntt \(NTTVersion.current)\n", to: Self.markerName) }
        removeStaleTemporaries()
        return lock
    }

    /// Removes the run folder `--overwrite` replaces, checked again now (it may have changed since
    /// `create`) and only while no other process writes it.
    private func removeReplacedRun() throws {
        try Self.checkReplaceable(url, flag: "--out")
        try withExtendedLifetime(try FileLock.takeFolder(url)) { try FileManager.default.removeItem(at: url) }
    }

    /// Removes `.NAME.tmp-PID` files that `AtomicFile` leaves when a writer is killed mid-write.
    /// Called with the folder's lock held, so no live writer owns one.
    func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names
        where name.hasPrefix(".") && name.range(of: #"\.tmp-[0-9]+$"#, options: .regularExpression) != nil {
            try? FileManager.default.removeItem(at: file(name))
        }
    }

    /// Runs `body` on a fresh staging folder beside this one (`.NAME.partial-PID`), then moves
    /// it into place (replacing the old run folder if allowed): a failed run leaves the target
    /// as it was and no staging folder behind. Staging folders of this run folder that a killed
    /// process left (SIGKILL, or a second Ctrl-C) are removed first.
    public func staged<R>(_ body: (RunFolder) throws -> R) throws -> R {
        let staging = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
        try? FileManager.default.removeItem(at: staging)
        removeAbandonedStaging()
        let folder = RunFolder(staging, start: .existing)
        do {
            let result = try withExtendedLifetime(try folder.begin()) { try body(folder) }
            try finish(staging)
            return result
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// Removes `.NAME.partial-PID` folders beside this one that ntt made (they hold its marker)
    /// and no live process writes (their folder lock is free): leftovers of killed runs.
    func removeAbandonedStaging() {
        let parent = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent).partial-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        for name in names where name.hasPrefix(prefix) {
            let pid = name.dropFirst(prefix.count)
            guard !pid.isEmpty && pid.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }
            let leftover = RunFolder(parent.appendingPathComponent(name))
            guard leftover.contains(Self.markerName), let lock = try? FileLock(leftover.url, folder: true) else {
                continue
            }
            withExtendedLifetime(lock) { try? FileManager.default.removeItem(at: leftover.url) }
        }
    }

    private func finish(_ staging: URL) throws {
        if start == .replace && FileManager.default.fileExists(atPath: url.path) { try removeReplacedRun() }
        guard rename(staging.path, url.path) == 0 else {
            throw NTTError("\(url.path): cannot move the finished run into place (\(String(cString: strerror(errno))))")
        }
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

    /// The records of `metrics.jsonl`; with `firstBytes`, only those of its first bytes.
    public func readMetrics<T: Decodable>(_ type: T.Type, firstBytes: Int? = nil) throws -> [T] {
        try RunJSON.lines(type, in: file(Self.metricsName), firstBytes: firstBytes)
    }

    // MARK: Tensors

    /// Writes tensors as safetensors under `name`, with `metadata` in the header.
    public func writeTensors(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                             to name: String) throws {
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
