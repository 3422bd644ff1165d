import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers see either the old content or the whole new content, never a
/// part: write to a temporary file in the same folder, flush it to disk, then rename over.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory) else {
            throw NTTError("\(path): the folder \(directory) does not exist")
        }
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw NTTError("\(path): cannot create a temporary file (\(String(cString: strerror(errno))))")
        }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { ok = false; break }
                offset += n
            }
        }
        let error = String(cString: strerror(errno))
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok else {
            unlink(temporary)
            throw NTTError("\(path): write failed (\(error))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw NTTError("\(path): cannot move the finished file into place (\(reason))")
        }
    }

    public static func writeText(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
