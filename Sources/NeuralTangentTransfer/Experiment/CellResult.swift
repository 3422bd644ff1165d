import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished cell reports (`done.json`, written last and atomically, so its presence
/// means the cell's other files are complete).
public struct CellResult: Codable, Sendable, Equatable {
    public var cell: ExperimentCell
    public var iterations: Int
    public var seconds: Double
    public var keptPerLayer: [Int]
    public var weightsPerLayer: [Int]
    /// Training cells.
    public var testAccuracy: Double?
    public var trainAccuracy: Double?
    /// Transfer cells: distances on the probe before the first and after the last iteration.
    public var ntkDistanceBefore: Double?
    public var ntkDistanceAfter: Double?
    public var targetDistanceBefore: Double?
    public var targetDistanceAfter: Double?
    public var toolVersion: String = NTTVersion.current

    public init(cell: ExperimentCell, iterations: Int, seconds: Double, keptPerLayer: [Int], weightsPerLayer: [Int]) {
        self.cell = cell; self.iterations = iterations; self.seconds = seconds
        self.keptPerLayer = keptPerLayer; self.weightsPerLayer = weightsPerLayer
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(try ExperimentConfig.encoder.encode(self), to: url.path)
    }

    public static func read(_ url: URL) throws -> CellResult {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw NTTError("\(url.path): cannot read") }
        do { return try ExperimentConfig.decoder.decode(CellResult.self, from: data) }
        catch { throw NTTError("\(url.path): not a cell result (\(error))") }
    }

    /// Every `done.json` under `cellsRoot`, in path order (results copied in from other
    /// machines are found too).
    public static func all(under cellsRoot: URL) throws -> [(folder: URL, result: CellResult)] {
        guard let walker = FileManager.default.enumerator(at: cellsRoot, includingPropertiesForKeys: nil) else { return [] }
        var found: [(URL, CellResult)] = []
        for case let url as URL in walker where url.lastPathComponent == "done.json" {
            found.append((url.deletingLastPathComponent(), try read(url)))
        }
        return found.sorted { $0.0.path < $1.0.path }
    }
}

/// An exclusive, advisory lock on a cell (`flock`), held while a process runs it. The kernel
/// releases it when the process dies, however it dies.
public final class CellLock {
    private let fd: Int32

    /// Takes the lock, or returns nil if another process holds it.
    public init?(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw NTTError("\(url.path): cannot open the lock file (\(String(cString: strerror(errno))))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); return nil }
        self.fd = fd
    }

    /// Whether some process holds the lock now.
    public static func isHeld(_ url: URL) -> Bool {
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        guard let lock = try? CellLock(url) else { return true }
        _ = lock
        return false
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
