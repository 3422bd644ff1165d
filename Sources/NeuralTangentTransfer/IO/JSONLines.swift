import Foundation

/// One JSON object per line, keys sorted, for `metrics.jsonl` files.
public enum JSONLines {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0a)
        return data
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> [T] {
        let decoder = JSONDecoder()
        return try data.split(separator: 0x0a).map { try decoder.decode(T.self, from: Data($0)) }
    }
}
