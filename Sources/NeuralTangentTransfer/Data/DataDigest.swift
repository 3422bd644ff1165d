import NTTLayers

/// A 64-bit FNV-1a digest of numbers, for checking that two runs saw the same data in the same
/// order without storing it (not a cryptographic hash).
public struct DataDigest: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// Adds the eight little-endian bytes of `word`.
    public mutating func add(_ word: UInt64) {
        for shift in stride(from: UInt64(0), to: 64, by: 8) {
            value = (value ^ ((word >> shift) & 0xff)) &* 0x100_0000_01b3
        }
    }

    public mutating func add(_ integers: [Int]) { integers.forEach { add(UInt64(truncatingIfNeeded: $0)) } }

    /// Adds each scalar's bit pattern.
    public mutating func add(_ tensor: Tensor) { tensor.scalars.forEach { add(UInt64($0.bitPattern)) } }

    /// The digest as 16 hex digits.
    public var hex: String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
