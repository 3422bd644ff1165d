import Foundation
import NeuralTangentTransfer
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive, advisory lock on a cell (`flock`), held while a process runs it. The kernel
/// releases it when the process dies, however it dies.
public final class CellLock {
    private let fd: Int32

    /// Takes the lock, or returns nil if another process holds it.
    public init?(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw NTTError("\(url.path): cannot open the lock file (\(String(cString: strerror(errno))))")
        }
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
