import Foundation
import NTTLayers

/// Reads IDX files (MNIST, Fashion-MNIST, KMNIST), gzipped or raw: big-endian magic
/// 0x00000803 (uint8 images N×H×W) or 0x00000801 (uint8 labels N), dimensions, then the data.
///
/// Every size comes from the file, so it is checked before any arithmetic or allocation: the
/// product of the dimensions with overflow checks, against `maximumBytes`, and against what the
/// file can hold (its size, or for gzip deflate's largest expansion). A gzipped file is inflated
/// as a stream: the header first, then exactly the declared number of bytes. The original files
/// hold exactly the declared bytes, so a shorter file is "truncated" and a longer one has
/// "trailing data"; both are errors.
public enum IDXReader {
    /// The largest body accepted (2 GiB; MNIST's training images are 47 MB).
    public static let maximumBytes = 1 << 31

    /// Images as [N, H, W, 1] pixel values in [0, 1].
    public static func images(_ path: String) throws -> Tensor {
        let (dimensions, body) = try read(path, magic: 0x0803, kind: "image")
        let (n, h, w) = (dimensions[0], dimensions[1], dimensions[2])
        return Tensor(shape: [n, h, w, 1], scalars: body.map { Float($0) / 255 })
    }

    /// Labels as integers, each checked to be below `classes` (a label of 255 must not silently
    /// make a 256-class model).
    public static func labels(_ path: String, classes: Int) throws -> [Int] {
        let (_, body) = try read(path, magic: 0x0801, kind: "label")
        if let bad = body.firstIndex(where: { Int($0) >= classes }) {
            throw NTTError("\(path): label \(body[bad]) at index \(bad) is outside 0..<\(classes) "
                           + "(the dataset has \(classes) classes)")
        }
        return body.map(Int.init)
    }

    static func bigEndian(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
    }

    /// The dimensions and the body of an IDX file with the given magic (its last byte is the
    /// number of dimensions).
    static func read(_ path: String, magic: Int, kind: String) throws -> (dimensions: [Int], body: [UInt8]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NTTError("\(path): cannot read the file")
        }
        let headerSize = 4 + 4 * (magic & 0xff)
        let gzipped = data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
        let stream = gzipped ? try InflateStream(data, format: .gzip, path: path) : nil
        let header: [UInt8]
        if let stream {
            header = try stream.read(headerSize, what: "an IDX \(kind) header")
        } else {
            guard data.count >= headerSize else {
                throw NTTError("\(path): too short for an IDX \(kind) header (\(data.count) bytes, "
                               + "expected \(headerSize))")
            }
            header = [UInt8](data.prefix(headerSize))
        }
        let found = bigEndian(header, 0)
        guard found == magic else {
            throw NTTError("\(path): not an IDX \(kind) file (magic 0x\(String(found, radix: 16)), "
                           + "expected 0x\(String(magic, radix: 16)))")
        }
        let dimensions = (0..<(magic & 0xff)).map { bigEndian(header, 4 + 4 * $0) }
        let shown = dimensions.map(String.init).joined(separator: "×")
        var bytes = 1, overflow = false
        for d in dimensions where !overflow { (bytes, overflow) = bytes.multipliedReportingOverflow(by: d) }
        guard dimensions.allSatisfy({ $0 > 0 }), !overflow, bytes <= maximumBytes else {
            throw NTTError("\(path): implausible IDX dimensions \(shown) (each must be positive, at most "
                           + "\(maximumBytes) bytes in all)")
        }
        guard let stream else {
            let body = data.count - headerSize
            guard body == bytes else {
                throw NTTError("\(path): expected \(headerSize + bytes) bytes for dimensions \(shown), found "
                               + "\(data.count) (\(body < bytes ? "truncated" : "trailing data"))")
            }
            return (dimensions, [UInt8](data.suffix(from: data.startIndex + headerSize)))
        }
        guard bytes <= stream.maximumOutput else {
            throw NTTError("\(path): declares dimensions \(shown) (\(bytes) bytes), more than \(data.count) "
                           + "gzipped bytes can hold (truncated or corrupt)")
        }
        let body = try stream.read(bytes, what: "dimensions \(shown)")
        try stream.expectEnd(after: "the \(bytes) bytes of dimensions \(shown)")
        return (dimensions, body)
    }
}
