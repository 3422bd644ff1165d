import Testing
@testable import NTTAutodiff

/// The fused product with a broadcast operand (`Tensor+BroadcastProduct.swift`): the same bits
/// as broadcasting first, in value and in both gradients; correct first and second derivatives;
/// the same bits with one thread or two.
struct BroadcastProductTests {
    /// (full shape, broadcast shape): the NTK's input Gram times its cotangent Gram, a ReLU mask
    /// repeated over outputs, a trailing row (the two-pass fallback), a lower-rank operand, one
    /// large enough to be cut into parallel parts, and a column whose runs of k make a row longer
    /// than `Strided.expandedRowLimit` (walked a run at a time).
    static let cases: [([Int], [Int])] = [
        ([3, 4, 2, 4], [3, 1, 2, 1]), ([2, 5, 6], [2, 1, 6]), ([3, 4], [4]), ([5, 3, 2], [3, 1]),
        ([6, 5], [6, 1]), ([60, 10, 40, 10], [60, 1, 40, 1]), ([3, 3000, 4], [3, 3000, 1]),
    ]

    /// f(a, x) = Σ w ⊙ (a ⊙ x↑) with the operands in both orders, fused and via an explicit broadcast.
    static func values(_ full: [Int], _ small: [Int], fused: Bool, smallFirst: Bool) -> [[UInt32]] {
        let a = GradientCheck.random(full, seed: 1), x = GradientCheck.random(small, seed: 2)
        let w = GradientCheck.random(full, seed: 3)
        let (value, grads) = valueAndGradient(at: [a, x]) { v in
            let b = fused ? v[1] : v[1].broadcast(to: full)
            return ((smallFirst ? b * v[0] : v[0] * b) * w).sum()
        }
        return ([value] + grads).map { $0.scalars.map(\.bitPattern) }
    }

    @Test(arguments: cases)
    func sameBitsAsBroadcastingFirst(full: [Int], small: [Int]) {
        for smallFirst in [false, true] {
            #expect(Self.values(full, small, fused: true, smallFirst: smallFirst)
                    == Self.values(full, small, fused: false, smallFirst: smallFirst))
        }
    }

    @Test(arguments: cases.prefix(5))
    func derivatives(full: [Int], small: [Int]) {
        let a = GradientCheck.random(full, seed: 4), x = GradientCheck.random(small, seed: 5)
        let w = GradientCheck.random(full, seed: 6)
        GradientCheck.check([a, x], "full * broadcast \(small)") { v in (v[0] * v[1] * v[1] * w).sum() }
        GradientCheck.check([x, a], "broadcast \(small) * full") { v in ((v[0] * v[1]).squared() * w).sum() }
    }

    @Test func sameBitsWithOneOrTwoThreads() {
        for (full, small) in Self.cases.suffix(2) {
            let run = { Self.values(full, small, fused: true, smallFirst: false) }
            #expect(Threads.withBudget(1, run) == Threads.withBudget(2, run), "\(full)")
        }
    }
}
