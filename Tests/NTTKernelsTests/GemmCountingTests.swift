import Foundation
import Testing
@testable import NTTKernels

/// `Gemm.multiplyAdds` counts m·n·k per product, however the product is cut into parts.
struct GemmCountingTests {
    /// The counter's change over one product of this shape, on two threads. Other tests may run
    /// products at the same time and add to the counter, so the smallest of several tries is
    /// taken: it is the product's own count unless every try overlapped another test's product.
    /// Tries go on (a few ms apart) until one is exact or five minutes have passed: another test
    /// can keep products running for tens of seconds, but the suite's other tests end.
    static func counted(m: Int, n: Int, k: Int, transposeA: Bool = false, single: Bool = false) -> Int {
        let a = [Float](repeating: 1, count: m * k), b = [Float](repeating: 1, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        var smallest = Int.max
        let deadline = ContinuousClock.now + .seconds(300)
        for attempt in 0... {
            if attempt >= 50 {
                if ContinuousClock.now > deadline { break }
                Thread.sleep(forTimeInterval: 0.005)
            }
            let before = Gemm.multiplyAdds.load(ordering: .relaxed)
            Parallel.$threadBudget.withValue(2) {
                if single {
                    Gemm.single(a, lda: k, transposeA: false, b, ldb: n, transposeB: false, into: &c, ldc: n,
                                m: m, n: n, k: k, beta: 0)
                } else {
                    Gemm.multiply(a, transposeA: transposeA, b, transposeB: false, into: &c, m: m, n: n, k: k)
                }
            }
            smallest = min(smallest, Gemm.multiplyAdds.load(ordering: .relaxed) &- before)
            if smallest <= m * n * k { break }  // others only add: below the count is a failure at once
        }
        #expect(c.isEmpty || c[0] == Float(k), "the product itself ran")
        return smallest
    }

    @Test(arguments: [(10, 10, 10), (4096, 50, 500), (64, 300, 784), (128, 128, 20_000), (300, 7, 2000)])
    func everyCutCountsTheWholeProduct(m: Int, n: Int, k: Int) {
        #expect(GemmCountingTests.counted(m: m, n: n, k: k) == m * n * k, "cut \(Gemm.Partition(m: m, n: n, k: k))")
        #expect(GemmCountingTests.counted(m: m, n: n, k: k, transposeA: true) == m * n * k)
    }

    /// The shapes above take every kind of cut.
    @Test func theShapesCoverEveryCut() {
        #expect(Gemm.Partition(m: 10, n: 10, k: 10) == .whole)
        #expect(Gemm.Partition(m: 4096, n: 50, k: 500) == .rows(parts: 8, size: 512))
        #expect(Gemm.Partition(m: 64, n: 300, k: 784) == .columns(parts: 7, size: 48))
        #expect(Gemm.Partition(m: 128, n: 128, k: 20_000) == .contracted(parts: 10, size: 2000))
        #expect(Gemm.Partition(m: 300, n: 7, k: 2000) == .contracted(parts: 2, size: 1000))
    }

    @Test func stridedAndEmptyProducts() {
        #expect(GemmCountingTests.counted(m: 33, n: 17, k: 9, single: true) == 33 * 17 * 9)
        #expect(GemmCountingTests.counted(m: 0, n: 17, k: 9) == 0)
    }
}
