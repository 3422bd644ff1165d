import Foundation
import NeuralTangentTransfer

/// A run's `metrics.jsonl`, appended one whole line at a time. Its length is part of a
/// checkpoint, so a resumed run cuts the file back to what the checkpoint had seen.
public final class MetricsLog {
    private let handle: FileHandle
    public let url: URL
    /// Bytes written so far (the file's length).
    public private(set) var bytes: Int

    init(url: URL, keepingFirst bytes: Int) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard bytes == 0 else {
                throw NTTError("\(url.path): missing, but the checkpoint expects \(bytes) bytes of it")
            }
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw NTTError("\(url.path): cannot create the metrics file")
            }
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        guard bytes >= 0 && bytes <= size else {
            throw NTTError("\(url.path): the checkpoint expects \(bytes) bytes of metrics but the file has \(size)")
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(bytes))
        try handle.seekToEnd()
        self.bytes = bytes
    }

    deinit { try? handle.close() }

    public func append<T: Encodable>(_ record: T) throws {
        let line = try RunJSON.line(record)
        try handle.write(contentsOf: line)
        bytes += line.count
    }

    /// Flushes to disk (before a checkpoint records `bytes`).
    public func synchronize() throws { try handle.synchronize() }
}
