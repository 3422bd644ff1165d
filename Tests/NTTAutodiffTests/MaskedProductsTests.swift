import Testing
import NTTKernels
@testable import NTTAutodiff

/// The masked-weight products equal the dense products with w ⊙ m, and their derivatives (first
/// and second order, in every operand) match central differences.
struct MaskedProductsTests {
    static let (k, n) = (7, 5)
    static let maskValues: [Float] = (0..<(k * n)).map { ($0 * 7 + 3) % 5 == 0 ? 1 : 0 }
    static let mask = Tensor(shape: [k, n], scalars: maskValues)
    static let pattern = maskValues.withUnsafeBufferPointer {
        SparsePattern(mask: $0.baseAddress!, rows: k, columns: n)!
    }

    @Test func valuesEqualTheDenseProducts() {
        let (k, n, m, p) = (Self.k, Self.n, Self.mask, Self.pattern)
        let x = GradientCheck.random([9, k], seed: 1), w = GradientCheck.random([k, n], seed: 2)
        let b = GradientCheck.random([n], seed: 3), d = GradientCheck.random([9, n], seed: 4)
        func same(_ a: Tensor, _ b: Tensor, _ label: String) {
            GradientCheck.assertClose(a, b.scalars, shape: b.shape, label)
        }
        same(Tensor.maskedAffine(x, w, b, mask: p), Tensor.affine(x, w * m, b), "maskedAffine")
        same(Tensor.maskedMatmul(x, w, mask: p), Tensor.matmul(x, w * m), "maskedMatmul")
        same(Tensor.maskedMatmul(d, w, transposeW: true, mask: p), Tensor.matmul(d, w * m, transposeB: true),
             "maskedMatmul transposed")
        same(Tensor.maskedGram(x, d, mask: p), Tensor.matmul(x, transposeA: true, d) * m, "maskedGram")
    }

    /// a·(w ⊙ m)ᵀ for an a whose rows of each class are zero outside a few columns (the NTK's
    /// cotangents): with `classes`, the product over those columns only (taken: its cost is below a
    /// quarter of the plain one here) gives the same values as without, and the same gradients.
    @Test func classSparseOperandGivesTheSameTransposedProduct() {
        // 40 outputs (rows of w), 30 columns, 3 classes; class 1 all zero. Mask: ~10% kept.
        let (outputs, columns) = (40, 30)
        let maskValues: [Float] = (0..<(outputs * columns)).map { ($0 * 7 + 3) % 10 == 0 ? 1 : 0 }
        let pattern = maskValues.withUnsafeBufferPointer {
            SparsePattern(mask: $0.baseAddress!, rows: outputs, columns: columns)!
        }
        let d = GroupedGramTests.classSparse(rows: 7, width: columns, columns: [[2, 9], [], [4]], seed: 21)
        let w = GradientCheck.random([outputs, columns], seed: 22)
        let support = d.withPointer { GroupSupport(scanning: $0, rows: 7, columns: columns, groups: 3)! }
        #expect(SparseProduct.groupedWork(rows: 7, pattern: pattern, support: support) * 4 <= 7 * pattern.count)
        let plain = Tensor.maskedMatmul(d, w, transposeW: true, mask: pattern)
        #expect(Tensor.maskedMatmul(d, w, transposeW: true, mask: pattern, classes: 3).scalars == plain.scalars)
        let weights = GradientCheck.random([7, outputs], seed: 23)
        GradientCheck.check([d, w], "maskedMatmul transposed, class-sparse operand") { v in
            (Tensor.maskedMatmul(v[0], v[1], transposeW: true, mask: pattern, classes: 3).squared() * weights).sum()
        }
    }

    @Test func derivativesMatchFiniteDifferences() {
        let (k, n, p) = (Self.k, Self.n, Self.pattern)
        let x = GradientCheck.random([3, k], seed: 5), w = GradientCheck.random([k, n], seed: 6)
        let b = GradientCheck.random([n], seed: 7), d = GradientCheck.random([3, n], seed: 8)
        let weightsN = GradientCheck.random([3, n], seed: 9), weightsK = GradientCheck.random([3, k], seed: 10)
        let weightsW = GradientCheck.random([k, n], seed: 11)
        // The squares make the second order non-trivial in every operand.
        GradientCheck.check([x, w, b], "maskedAffine") { v in
            (Tensor.maskedAffine(v[0], v[1], v[2], mask: p).squared() * weightsN).sum()
        }
        GradientCheck.check([x, w], "maskedMatmul") { v in
            (Tensor.maskedMatmul(v[0], v[1], mask: p).squared() * weightsN).sum()
        }
        GradientCheck.check([d, w], "maskedMatmul transposed") { v in
            (Tensor.maskedMatmul(v[0], v[1], transposeW: true, mask: p).squared() * weightsK).sum()
        }
        GradientCheck.check([x, d], "maskedGram") { v in
            (Tensor.maskedGram(v[0], v[1], mask: p).squared() * weightsW).sum()
        }
        // The weight's gradient is zero at pruned entries.
        let g = gradient(at: w) { (Tensor.maskedAffine(x, $0, b, mask: p) * weightsN).sum() }
        #expect(zip(g.scalars, Self.maskValues).allSatisfy { $1 != 0 || $0 == 0 })
    }
}
