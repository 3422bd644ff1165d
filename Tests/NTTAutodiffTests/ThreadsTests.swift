import Testing
import NTTKernels
@testable import NTTAutodiff
#if canImport(Glibc)
import Glibc
#endif

/// `Threads.pair`, which runs a pullback's two cotangents side by side: it does so only for small
/// products with a budget of exactly two threads, and the pullbacks that use it (products, masked
/// products, broadcast products) give the same bits on any budget, to first and second order.
struct ThreadsTests {
    /// Side by side only for a small product with a budget of exactly two threads; then both
    /// results come back (nil for one not wanted), `first` runs on the calling thread, and without
    /// side by side so does `second`. (Whether the helper does take the second side depends on the
    /// pool being free, which other suites' jobs make uncertain: `ParallelTests` checks it.)
    @Test func pairRunsSmallProductsSideBySideOnTwoThreads() {
        let caller = UInt(pthread_self())
        func side(_ value: Float, _ thread: inout UInt) -> Tensor {
            thread = UInt(pthread_self())
            return Tensor(shape: [1], scalars: [value])
        }
        for (budget, work) in [(1, 1000), (2, 1000), (3, 1000), (2, Threads.pairedWork + 1)] {
            let sideBySide = budget == 2 && work <= Threads.pairedWork
            var (firstThread, secondThread) = (UInt(0), UInt(0))
            let (decided, (a, b)) = Parallel.$threadBudget.withValue(budget) {
                (Threads.pairsSideBySide(work: work),
                 Threads.pair(work: work, true, { side(1, &firstThread) }, true, { side(2, &secondThread) }))
            }
            #expect(decided == sideBySide, "budget \(budget), work \(work)")
            #expect(a?.scalars == [1] && b?.scalars == [2] && firstThread == caller)
            if !sideBySide { #expect(secondThread == caller, "budget \(budget), work \(work)") }
        }
        var unused = UInt(0)
        let (a, b) = Parallel.$threadBudget.withValue(2) {
            Threads.pair(work: 1, false, { side(1, &unused) }, true, { side(2, &unused) })
        }
        #expect(a == nil && b?.scalars == [2])
    }

    /// A small network's kernel in miniature (products of two batches' features, a broadcast
    /// product with their input Gram, masked products): value, gradient and a gradient of the
    /// gradient's norm (recorded pullbacks, so pairs that record on the tape from two threads)
    /// bit for bit on 1, 2 and 3 threads.
    @Test func pullbacksGiveTheSameBitsOnAnyBudget() {
        let (n, d, h, k) = (6, 40, 24, 3)
        var rng = SeededRandom(seed: 5, stream: "test.threads-mask")
        let m = Tensor(shape: [d, h], scalars: (0..<(d * h)).map { _ in rng.nextUniform() < 0.2 ? 1 : 0 })
        let pattern = m.scalars.withUnsafeBufferPointer { SparsePattern(mask: $0.baseAddress!, rows: d, columns: h)! }
        let x1 = GradientCheck.random([n, d], seed: 1), x2 = GradientCheck.random([n, d], seed: 2)
        let w = GradientCheck.random([d, h], seed: 3, scale: 0.3), v = GradientCheck.random([h, k], seed: 4)
        func kernel(_ p: [Tensor]) -> Tensor {
            let f1 = Tensor.maskedMatmul(x1, p[0], mask: pattern), f2 = Tensor.maskedMatmul(x2, p[0], mask: pattern)
            let g1 = Tensor.matmul(f1, p[1]), g2 = Tensor.matmul(f2, p[1])
            let outer = Tensor.matmul(g1, g2, transposeB: true).reshaped([n, 1, n, 1])
            let features = Tensor.matmul(f1, f2, transposeB: true).reshaped([n, 1, n, 1])
            let pushed = Tensor.maskedMatmul(Tensor.matmul(g1, p[1], transposeB: true), p[0],
                                             transposeW: true, mask: pattern)
            return (outer * features).sum() + Tensor.maskedGram(pushed, f2, mask: pattern).squared().sum()
        }
        func run() -> [[Float]] {
            let (value, grads) = valueAndGradient(at: [w, v]) { p in kernel(p) }
            let second = gradient(at: [w, v]) { p in
                gradient(at: p) { q in kernel(q) }.map { $0.squared().sum() }.reduce(Tensor(0), +)
            }
            return [value.scalars] + grads.map(\.scalars) + second.map(\.scalars)
        }
        let one = Parallel.$threadBudget.withValue(1) { run() }
        for budget in [2, 3] {
            #expect(Parallel.$threadBudget.withValue(budget) { run() } == one, "budget \(budget)")
        }
    }
}
