import Testing
@testable import NTTAutodiff

struct MatMulTests {
    static func reference(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, ta: Bool, tb: Bool) -> [Float] {
        (0..<(m * n)).map { idx in
            let (i, j) = (idx / n, idx % n)
            return (0..<k).reduce(Float(0)) { acc, p in
                acc + a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j]
            }
        }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmul(ta: Bool, tb: Bool) {
        let (m, n, k) = (3, 5, 4)
        let a = GradientCheck.random(ta ? [k, m] : [m, k], seed: 1),
            b = GradientCheck.random(tb ? [n, k] : [k, n], seed: 2)
        GradientCheck.assertClose(Tensor.matmul(a, transposeA: ta, b, transposeB: tb),
                                  Self.reference(a.scalars, b.scalars, m: m, n: n, k: k, ta: ta, tb: tb),
                                  shape: [m, n], "matmul")
        let w = GradientCheck.random([m, n], seed: 3)
        GradientCheck.check([a, b], "matmul \(ta) \(tb)") { v in
            (Tensor.matmul(v[0], transposeA: ta, v[1], transposeB: tb) * w).sum()
        }
        GradientCheck.check([a], "matmul² \(ta) \(tb)") { v in
            (Tensor.matmul(v[0], transposeA: ta, b, transposeB: tb).squared() * w).sum()
        }
    }

    @Test func affineIsTheProductPlusTheBiasRow() {
        let (m, n, k) = (4, 3, 5)
        let x = GradientCheck.random([m, k], seed: 7), w = GradientCheck.random([k, n], seed: 8),
            b = GradientCheck.random([n], seed: 9)
        let product = Self.reference(x.scalars, w.scalars, m: m, n: n, k: k, ta: false, tb: false)
        GradientCheck.assertClose(Tensor.affine(x, w, b), product.enumerated().map { $1 + b.scalars[$0 % n] },
                                  shape: [m, n], "affine")
        let weights = GradientCheck.random([m, n], seed: 10)
        // First and second order in all three inputs (the squares make the second order non-trivial).
        GradientCheck.check([x, w, b], "affine") { v in (Tensor.affine(v[0], v[1], v[2]).squared() * weights).sum() }
        // The bias cotangent is the column sum even when x is not differentiated.
        let gb = gradient(at: b) { (Tensor.affine(x, w, $0) * weights).sum() }
        GradientCheck.assertClose(gb,
                                  (0..<n).map { j in (0..<m).reduce(Float(0)) { $0 + weights.scalars[$1 * n + j] } },
                                  shape: [n], "affine bias gradient")
    }

    @Test func emptyInnerDimensionGivesZeros() {
        #expect(Tensor.matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars == [Float](repeating: 0, count: 6))
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func batchedMatmul(ta: Bool, tb: Bool) {
        let (batch, m, n, k) = (2, 3, 2, 4)
        let a = GradientCheck.random(ta ? [batch, k, m] : [batch, m, k], seed: 4)
        let b = GradientCheck.random(tb ? [batch, n, k] : [batch, k, n], seed: 5)
        var expected: [Float] = []
        for i in 0..<batch {
            expected += Self.reference(Array(a.scalars[(i * m * k)..<((i + 1) * m * k)]),
                                       Array(b.scalars[(i * n * k)..<((i + 1) * n * k)]),
                                       m: m, n: n, k: k, ta: ta, tb: tb)
        }
        GradientCheck.assertClose(Tensor.batchedMatmul(a, transposeA: ta, b, transposeB: tb), expected,
                                  shape: [batch, m, n], "batchedMatmul")
        let w = GradientCheck.random([batch, m, n], seed: 6)
        GradientCheck.check([a, b], "batchedMatmul \(ta) \(tb)") { v in
            (Tensor.batchedMatmul(v[0], transposeA: ta, v[1], transposeB: tb) * w).sum()
        }
    }
}
