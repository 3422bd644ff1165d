import Testing
@testable import NTTKernels

/// `Gemm`'s products against a plain triple loop, and its contract for beta = 0: C's old contents
/// (NaN here) never reach the result, whether OpenBLAS or `Gemm` zeroes C (`Gemm.blasZeroesC`:
/// on AVX-512 kernels a small product goes to a kernel that writes C without reading it).
struct GemmTests {
    /// Deterministic operands with values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed, stream: "gemm-tests")
        return (0..<count).map { _ in Float(2 * rng.nextUniform() - 1) }
    }

    /// op(A)·op(B) + beta·C by the definition, in Double.
    static func plain(_ a: [Float], transposeA: Bool, _ b: [Float], transposeB: Bool, _ c: [Float],
                      m: Int, n: Int, k: Int, beta: Float) -> [Double] {
        (0..<(m * n)).map { e in
            let (i, j) = (e / n, e % n)
            var sum = beta == 0 ? 0 : Double(beta) * Double(c[e])
            for p in 0..<k {
                let x = transposeA ? a[p * m + i] : a[i * k + p], y = transposeB ? b[j * k + p] : b[p * n + j]
                sum += Double(x) * Double(y)
            }
            return sum
        }
    }

    /// Shapes that OpenBLAS's AVX-512 build takes to its small-matrix kernels (m·n·k ≤ 100³, the
    /// pooled Jacobians' 10 × width × W among them) and to its packed ones; one large enough to
    /// be cut into parts on two threads.
    @Test(arguments: [(10, 192, 25), (25, 192, 10), (10, 25, 192), (7, 3, 5), (64, 300, 784), (300, 320, 320)])
    func zeroBetaOverwritesWhateverCHeld(m: Int, n: Int, k: Int) {
        for (transposeA, transposeB) in [(false, false), (true, false), (false, true)] {
            let a = GemmTests.values(m * k, seed: 1), b = GemmTests.values(k * n, seed: 2)
            let old = GemmTests.values(m * n, seed: 3)
            let expected = GemmTests.plain(a, transposeA: transposeA, b, transposeB: transposeB, old,
                                           m: m, n: n, k: k, beta: 0)
            let accumulated = GemmTests.plain(a, transposeA: transposeA, b, transposeB: transposeB, old,
                                              m: m, n: n, k: k, beta: 1)
            let tolerance = 1e-5 * Double(k)
            func check(_ c: [Float], _ want: [Double], _ what: String) {
                let worst = zip(c, want).map { abs(Double($0) - $1) }.max() ?? 0
                #expect(!c.contains { $0.isNaN } && worst <= tolerance,
                        "\(what) \(m)×\(n)×\(k) transposeA \(transposeA) transposeB \(transposeB): worst \(worst)")
            }
            // beta = 0 over NaN, through both entry points, on one and two threads.
            for threads in [1, 2] {
                var c = [Float](repeating: .nan, count: m * n)
                Parallel.$threadBudget.withValue(threads) {
                    Gemm.multiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &c, m: m, n: n, k: k)
                }
                check(c, expected, "multiply, \(threads) threads, over NaN")
            }
            var single = [Float](repeating: .nan, count: m * n)
            Gemm.single(a, lda: transposeA ? m : k, transposeA: transposeA, b, ldb: transposeB ? k : n,
                        transposeB: transposeB, into: &single, ldc: n, m: m, n: n, k: k, beta: 0)
            check(single, expected, "single, over NaN")
            // A block of columns of a wider C: the columns beside it keep their values.
            var wide = [Float](repeating: .nan, count: m * (n + 3))
            for i in 0..<m { for j in n..<(n + 3) { wide[i * (n + 3) + j] = Float(j) } }
            Gemm.single(a, lda: transposeA ? m : k, transposeA: transposeA, b, ldb: transposeB ? k : n,
                        transposeB: transposeB, into: &wide, ldc: n + 3, m: m, n: n, k: k, beta: 0)
            check((0..<(m * n)).map { wide[($0 / n) * (n + 3) + $0 % n] }, expected, "single into a block")
            #expect((0..<m).allSatisfy { i in (n..<(n + 3)).allSatisfy { wide[i * (n + 3) + $0] == Float($0) } })
            // beta = 1 adds to what C held.
            var c = old
            Gemm.multiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &c, m: m, n: n, k: k, beta: 1)
            check(c, accumulated, "multiply with beta = 1")
        }
    }

    /// Both ways of zeroing C for beta = 0, whichever this machine's kernels take by default:
    /// OpenBLAS's (its small-matrix kernels write C without reading it) and `Gemm`'s own; the
    /// same bits, NaN in C or not.
    @Test(arguments: [(10, 192, 25), (25, 192, 10), (64, 300, 784)])
    func bothZeroingsGiveTheSameBits(m: Int, n: Int, k: Int) {
        let a = GemmTests.values(m * k, seed: 4), b = GemmTests.values(k * n, seed: 5)
        let results = [true, false].map { blasZeroes in
            var c = [Float](repeating: .nan, count: m * n)
            Gemm.call(transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a, lda: k, b, ldb: n,
                      beta: 0, &c, ldc: n, blasZeroes: blasZeroes)
            return c
        }
        let differing = zip(results[0], results[1]).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(!results[0].contains { $0.isNaN } && differing == 0, "\(differing) of \(m * n) elements differ")
    }
}
