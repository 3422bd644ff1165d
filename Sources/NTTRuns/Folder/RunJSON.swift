import Foundation
import NeuralTangentTransfer

/// The one JSON convention of every file `ntt` writes: Swift property names converted to
/// snake_case keys, keys sorted, slashes unescaped; documents pretty-printed, metrics one
/// compact object per line (JSON Lines). Types never spell keys by hand (no `CodingKeys` for
/// naming), so a key is always the snake_case form of the property that holds it.
public enum RunJSON {
    /// Pretty-printed documents: `config.json`, `done.json`, `experiment.json`, summaries.
    public static var encoder: JSONEncoder { makeEncoder(pretty: true) }

    /// One compact object per line (`metrics.jsonl`) and JSON inside safetensors metadata.
    public static var lineEncoder: JSONEncoder { makeEncoder(pretty: false) }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }

    private static func makeEncoder(pretty: Bool) -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = pretty
            ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// One line of a metrics file, newline included.
    public static func line<T: Encodable>(_ value: T) throws -> Data {
        var data = try lineEncoder.encode(value)
        data.append(0x0a)
        return data
    }

    /// Every line of a metrics file; the error names the file and the line.
    /// `firstBytes`: only the records of the file's first bytes (what a checkpoint has seen).
    public static func lines<T: Decodable>(_ type: T.Type, in url: URL, firstBytes: Int? = nil) throws -> [T] {
        guard let whole = FileManager.default.contents(atPath: url.path) else {
            throw NTTError("\(url.path): cannot read the metrics file")
        }
        let data = firstBytes.map { whole.prefix(max($0, 0)) } ?? whole
        var out: [T] = []
        for (n, line) in data.split(separator: 0x0a).enumerated() {
            do { out.append(try decoder.decode(T.self, from: Data(line))) } catch {
                throw NTTError("\(url.path): line \(n + 1) is not a valid record")
            }
        }
        return out
    }

    /// A compact single-line string (for safetensors metadata).
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try lineEncoder.encode(value), as: UTF8.self)
    }

    /// Decodes a document; the error names the file.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL, what: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw NTTError("\(url.path): cannot read")
        }
        do { return try decoder.decode(T.self, from: data) } catch {
            throw NTTError("\(url.path): not \(what) (\(Self.describe(error)))")
        }
    }

    /// A decoding error as a short phrase naming the key path.
    public static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c),
             DecodingError.dataCorrupted(let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "bad value at '\(path)'"
        case DecodingError.keyNotFound(let key, _):
            return "missing key '\(key.stringValue)'"
        default:
            return "\(error)"
        }
    }
}
