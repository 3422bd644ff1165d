import Foundation
import NeuralTangentTransfer
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive, advisory `flock` on a run folder itself (its directory inode), held by the one
/// process that writes the folder. The kernel drops it when the process dies, however it dies.
public final class FolderLock {
    private let fd: Int32

    /// Takes the lock, or returns nil if another process holds it.
    public init?(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else {
            throw NTTError("\(url.path): cannot open the folder (\(String(cString: strerror(errno))))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    /// Takes the lock or throws, naming the folder.
    public static func take(_ url: URL) throws -> FolderLock {
        guard let lock = try FolderLock(url) else {
            throw NTTError("\(url.path) is being written by another ntt process; wait for it or choose another --out")
        }
        return lock
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
