import CZlib
import Foundation

/// Inflates a gzip or zlib stream held in memory a piece at a time, so that a reader can check a
/// header's declared sizes before it allocates for the body: a small hostile file can declare
/// gigabytes (a 28 MB gzip bomb inflates to 6 GB). Errors name the file and say what was expected.
final class InflateStream {
    enum Format {
        /// gzip (RFC 1952), as IDX files are distributed; one member, as in the original files.
        case gzip
        /// zlib (RFC 1950), as in MATLAB's miCOMPRESSED elements.
        case zlib
    }

    /// Deflate's largest possible expansion is 1032:1 (a 258-byte match costs at least 2 bits),
    /// so a declared size above this times the compressed size is a lie, found before allocating.
    static let maximumRatio = 1032

    private let input: Data
    private let path: String
    /// Heap-allocated because zlib keeps a pointer back to the `z_stream` and checks it.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var ended = false

    init(_ input: Data, format: Format, path: String) throws {
        self.input = input
        self.path = path
        stream.initialize(to: z_stream())
        // windowBits 15 + 16: gzip only; 15: zlib only.
        let status = inflateInit2_(stream, format == .gzip ? 31 : 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw NTTError("\(path): cannot start inflating (zlib error \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// The most bytes the compressed input can inflate to.
    var maximumOutput: Int { input.count.multipliedReportingOverflow(by: Self.maximumRatio).partialValue }

    /// Exactly `count` inflated bytes; `what` names them in the error if the stream ends first.
    func read(_ count: Int, what: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let produced = try out.withUnsafeMutableBytes { try inflate(into: $0) }
        guard produced == count else {
            throw NTTError("\(path): the compressed data ends after \(produced) of the \(count) bytes of \(what) "
                           + "(truncated)")
        }
        return out
    }

    /// Checks that nothing follows: no more inflated data and no bytes after the stream.
    func expectEnd(after what: String) throws {
        var probe: UInt8 = 0
        let extra = try withUnsafeMutableBytes(of: &probe) { try inflate(into: $0) }
        guard extra == 0 else { throw NTTError("\(path): the compressed data holds more than \(what) (trailing data)") }
        guard ended else { throw NTTError("\(path): the compressed data ends without its end marker (truncated)") }
        let trailing = input.count - Int(stream.pointee.total_in)
        guard trailing == 0 else {
            throw NTTError("\(path): \(trailing) bytes follow the end of the compressed data (trailing data)")
        }
    }

    /// Fills `buffer` as far as the stream allows; returns the number of bytes written.
    private func inflate(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        while written < buffer.count && !ended {
            let consumed = Int(stream.pointee.total_in)
            let chunk = min(buffer.count - written, 1 << 30)
            let before = stream.pointee.total_out
            let status: Int32 = input.withUnsafeBytes { raw in
                guard consumed < raw.count else { return Z_BUF_ERROR }
                stream.pointee.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: Bytef.self).baseAddress!
                                                              + consumed)
                stream.pointee.avail_in = UInt32(min(raw.count - consumed, Int(UInt32.max)))
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + written
                stream.pointee.avail_out = UInt32(chunk)
                defer { stream.pointee.next_in = nil; stream.pointee.next_out = nil }
                return CZlib.inflate(stream, Z_NO_FLUSH)
            }
            written += Int(stream.pointee.total_out - before)
            switch status {
            case Z_OK: continue
            case Z_STREAM_END: ended = true
            case Z_BUF_ERROR:
                // No progress possible: the input is used up before the stream's end.
                return written
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw NTTError("\(path): corrupt compressed data (\(message))")
            }
        }
        return written
    }
}
