import CZlib
import Foundation

/// Reads IDX files (MNIST, Fashion-MNIST, KMNIST), gzipped or raw: big-endian magic
/// 0x00000803 (uint8 images N×H×W) or 0x00000801 (uint8 labels N), dimensions, then the data.
public enum IDXReader {
    /// The file's bytes, inflated through zlib when it starts with the gzip magic 1f 8b.
    static func contents(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NTTError("\(path): cannot read the file")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else { return bytes }
        guard let file = gzopen(path, "rb") else { throw NTTError("\(path): cannot open the gzip stream") }
        defer { gzclose(file) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw NTTError("\(path): corrupt gzip data") }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        var errorCode: Int32 = 0
        if let message = gzerror(file, &errorCode), errorCode != Z_OK && errorCode != Z_STREAM_END {
            throw NTTError("\(path): corrupt gzip data (\(String(cString: message)))")
        }
        return out
    }

    static func bigEndian(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
    }

    /// Images as [N, H, W, 1] pixel values in [0, 1].
    public static func images(_ path: String) throws -> Tensor {
        let b = try contents(path)
        guard b.count >= 16 else { throw NTTError("\(path): too short for an IDX image header (\(b.count) bytes)") }
        let magic = bigEndian(b, 0)
        guard magic == 0x0803 else {
            throw NTTError("\(path): not an IDX image file (magic 0x\(String(magic, radix: 16)), expected 0x803)")
        }
        let (n, h, w) = (bigEndian(b, 4), bigEndian(b, 8), bigEndian(b, 12))
        guard n > 0, h > 0, w > 0 else { throw NTTError("\(path): invalid dimensions \(n)×\(h)×\(w)") }
        guard b.count == 16 + n * h * w else {
            throw NTTError("\(path): expected \(16 + n * h * w) bytes for \(n) images of \(h)×\(w), found \(b.count) (truncated or corrupt)")
        }
        let pixels = b[16...].map { Float($0) / 255 }
        return Tensor(shape: [n, h, w, 1], scalars: pixels)
    }

    /// Labels as integers.
    public static func labels(_ path: String) throws -> [Int] {
        let b = try contents(path)
        guard b.count >= 8 else { throw NTTError("\(path): too short for an IDX label header (\(b.count) bytes)") }
        let magic = bigEndian(b, 0)
        guard magic == 0x0801 else {
            throw NTTError("\(path): not an IDX label file (magic 0x\(String(magic, radix: 16)), expected 0x801)")
        }
        let n = bigEndian(b, 4)
        guard b.count == 8 + n else {
            throw NTTError("\(path): expected \(8 + n) bytes for \(n) labels, found \(b.count) (truncated or corrupt)")
        }
        return b[8...].map(Int.init)
    }
}
