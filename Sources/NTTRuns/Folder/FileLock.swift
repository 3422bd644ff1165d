import Foundation
import NeuralTangentTransfer
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive, advisory `flock`, held by the one process that writes a run folder or runs an
/// experiment cell. The kernel drops it when the process dies, however it dies.
public final class FileLock {
    private let fd: Int32

    /// Takes the lock on `url`, or returns nil if another process holds it. `url` is a lock file
    /// (created, with its folder, if missing) or, with `folder`, an existing folder itself (its
    /// directory inode, so the lock adds no file to it).
    public init?(_ url: URL, folder: Bool = false) throws {
        if !folder {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
        }
        let fd = folder ? open(url.path, O_RDONLY | O_DIRECTORY) : open(url.path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw NTTError("\(url.path): cannot open it to lock (\(String(cString: strerror(errno))))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    /// Takes the lock on a run folder or throws, naming it.
    public static func takeFolder(_ url: URL) throws -> FileLock {
        guard let lock = try FileLock(url, folder: true) else {
            throw NTTError("\(url.path) is being written by another ntt process; wait for it or choose another --out")
        }
        return lock
    }

    /// Whether some process holds the lock file `url` now.
    public static func isHeld(_ url: URL) -> Bool {
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        return (try? FileLock(url)) == nil
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
