import Testing
import NTTKernels
@testable import NTTAutodiff

/// The Gram of matrices sparse by row class (`groupedGram`, as the NTK's Δ of a sparse network):
/// the plain product's values, the sparse products taken only when both operands are sparse
/// enough, and derivatives (first and second order, in both operands, also at the zeros) that
/// match central differences.
struct GroupedGramTests {
    /// D [rows, width] whose rows of class c (row mod groups) are nonzero only at `columns[c]`.
    static func classSparse(rows: Int, width: Int, columns: [[Int]], seed: UInt64) -> Tensor {
        let values = GradientCheck.random([rows, width], seed: seed).scalars
        return Tensor(shape: [rows, width], scalars: (0..<(rows * width)).map { i in
            columns[(i / width) % columns.count].contains(i % width) ? values[i] : 0
        })
    }

    // Three classes of 40 columns (few enough: at most 0.4·40 − 8 = 8 per class); class 2 of the
    // first operand is all zero.
    static let columns1 = [[1, 4], [0], []], columns2 = [[4, 7], [2], [9]]

    @Test func valuesEqualThePlainGram() {
        let d1 = Self.classSparse(rows: 12, width: 40, columns: Self.columns1, seed: 1)
        let d2 = Self.classSparse(rows: 9, width: 40, columns: Self.columns2, seed: 2)
        #expect(Tensor.groupedGramSupports(d1, d2, groups: 3) != nil, "sparse operands take the sparse products")
        let plain = Tensor.matmul(d1, d2, transposeB: true)
        GradientCheck.assertClose(Tensor.groupedGram(d1, d2, groups: 3), plain.scalars, shape: plain.shape,
                                  "sparse Gram")
        // Dense operands: the plain product, bit for bit.
        let e1 = GradientCheck.random([12, 40], seed: 3), e2 = GradientCheck.random([9, 40], seed: 4)
        #expect(Tensor.groupedGramSupports(e1, e2, groups: 3) == nil)
        #expect(Tensor.groupedGram(e1, e2, groups: 3).scalars == Tensor.matmul(e1, e2, transposeB: true).scalars)
        // One sparse operand is not enough.
        #expect(Tensor.groupedGramSupports(d1, e2, groups: 3) == nil)
        // LeNet-300-100's shape: 32 samples × 10 outputs, 300 columns, ~27 per output.
        var rng = SeededRandom(seed: 5, stream: "grouped-gram")
        let wide = (0..<10).map { _ in (0..<27).map { _ in rng.nextInt(below: 300) } }
        let w1 = Self.classSparse(rows: 320, width: 300, columns: wide, seed: 6)
        let w2 = Self.classSparse(rows: 320, width: 300, columns: wide, seed: 7)
        #expect(Tensor.groupedGramSupports(w1, w2, groups: 10) != nil)
        let widePlain = Tensor.matmul(w1, w2, transposeB: true)
        GradientCheck.assertClose(Tensor.groupedGram(w1, w2, groups: 10), widePlain.scalars, shape: widePlain.shape,
                                  tolerance: 1e-4, "LeNet-300-100-sized sparse Gram")
    }

    @Test func derivativesMatchFiniteDifferences() {
        let d1 = Self.classSparse(rows: 6, width: 40, columns: Self.columns1, seed: 8)
        let d2 = Self.classSparse(rows: 9, width: 40, columns: Self.columns2, seed: 9)
        #expect(Tensor.groupedGramSupports(d1, d2, groups: 3) != nil)
        let weights = GradientCheck.random([6, 9], seed: 10)
        // The square makes the second order non-trivial in both operands.
        GradientCheck.check([d1, d2], "groupedGram (sparse)") { v in
            (Tensor.groupedGram(v[0], v[1], groups: 3).squared() * weights).sum()
        }
        // The cotangents are the plain products' also where the operands are zero.
        let g = GradientCheck.random([6, 9], seed: 11)
        let grads = gradient(at: [d1, d2]) { (Tensor.groupedGram($0[0], $0[1], groups: 3) * g).sum() }
        let (g1, g2) = (grads[0], grads[1])
        GradientCheck.assertClose(g1, Tensor.matmul(g, d2).scalars, shape: d1.shape, "D̄₁ = Ḡ·D₂")
        GradientCheck.assertClose(g2, Tensor.matmul(g, transposeA: true, d1).scalars, shape: d2.shape, "D̄₂ = ḠᵀD₁")
    }
}
