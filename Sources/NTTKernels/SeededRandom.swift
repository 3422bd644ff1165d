/// A small, fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Everything random in the project draws from one of these, created from the run's seed and a
/// purpose label (`SeededRandom(seed: 3, stream: "init")`), so that results depend only on the
/// seed — never on thread count, timing or the order in which unrelated parts ask for numbers.
package struct SeededRandom: RandomNumberGenerator, Sendable, Hashable, Codable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator for `seed`, optionally on an independent named stream.
    package init(seed: UInt64, stream: String = "") {
        // FNV-1a of the label, mixed with the seed, then expanded by SplitMix64.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var state = seed ^ h
        func splitMix() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    package mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1), 53 random bits.
    package mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal sample (Box–Muller in Double precision).
    package mutating func nextNormal() -> Double {
        var u1 = nextUniform()
        while u1 <= 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A standard normal sample conditioned on |x| ≤ 2 (rejection; accepts 95.4% of draws).
    package mutating func nextTruncatedNormal() -> Double {
        while true {
            let x = nextNormal()
            if abs(x) <= 2 { return x }
        }
    }

    /// An integer uniform in 0..<upperBound.
    package mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "SeededRandom.nextInt: upper bound must be positive")
        return Int(next(upperBound: UInt64(upperBound)))
    }

    /// A uniformly random permutation of 0..<count (Fisher–Yates).
    package mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) }
        }
        return p
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
