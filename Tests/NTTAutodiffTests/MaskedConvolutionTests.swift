import Testing
import NTTKernels
@testable import NTTAutodiff

/// `convolution` and `convolutionTranspose` with a sparse filter mask (a sparse student's conv
/// layer): equal to the dense ops with w ⊙ m, w's gradient zero at pruned entries, derivatives of
/// first and second order against central differences, and the same bits on any thread budget.
struct MaskedConvolutionTests {
    static let chunkCases = ConvolutionTests.chunkCases

    /// A 0/1 mask [patchSize, cout] keeping about `keep` of the entries, and its listed pattern.
    static func mask(_ g: WindowGeometry, cout: Int, seed: UInt64, keep: Float = 0.3) -> (Tensor, SparsePattern) {
        var rng = SeededRandom(seed: seed, stream: "test.conv-mask")
        let m = Tensor(shape: [g.patchSize, cout],
                       scalars: (0..<(g.patchSize * cout)).map { _ in rng.nextUniform() < Double(keep) ? 1 : 0 })
        let pattern = m.scalars.withUnsafeBufferPointer {
            SparsePattern(mask: $0.baseAddress!, rows: g.patchSize, columns: cout)!
        }
        return (m, pattern)
    }

    /// A mask's pattern, an input, a filter and a bias for `g` (seeds seed…seed+3).
    static func operands(_ g: WindowGeometry, cout: Int, seed: UInt64, keep: Float)
        -> (SparsePattern, Tensor, Tensor, Tensor) {
        (mask(g, cout: cout, seed: seed, keep: keep).1,
         GradientCheck.random([g.batch, g.height, g.width, g.channels], seed: seed + 1),
         GradientCheck.random([g.patchSize, cout], seed: seed + 2, scale: 0.3),
         GradientCheck.random([cout], seed: seed + 3))
    }

    static func assertSame(_ got: Tensor, _ want: Tensor, tolerance: Float = 1e-5, _ label: String) {
        GradientCheck.assertClose(got, want.scalars, shape: want.shape, tolerance: tolerance, label)
    }

    @Test(arguments: 0..<3)
    func convolutionEqualsTheDenseOpWithTheMaskedFilter(caseIndex: Int) {
        let g = Self.chunkCases[caseIndex], cout = 7
        let (m, pattern) = Self.mask(g, cout: cout, seed: 30)
        let x = GradientCheck.random([g.batch, g.height, g.width, g.channels], seed: 31)
        let w = GradientCheck.random([g.patchSize, cout], seed: 32, scale: 0.3)
        let b = GradientCheck.random([cout], seed: 33)
        Self.assertSame(Tensor.convolution(x, w, b, g, mask: pattern), Tensor.convolution(x, w * m, b, g),
                        "masked convolution value")
        let weights = GradientCheck.random([g.batch, g.outHeight, g.outWidth, cout], seed: 34)
        let masked = gradient(at: [x, w, b]) { v in (Tensor.convolution(v[0], v[1], v[2], g, mask: pattern) * weights).sum() }
        let dense = gradient(at: [x, w, b]) { v in (Tensor.convolution(v[0], v[1] * m, v[2], g) * weights).sum() }
        for (name, (got, want)) in zip(["x", "w", "b"], zip(masked, dense)) {
            Self.assertSame(got, want, tolerance: 1e-4, "masked convolution gradient \(name)")
        }
        #expect(zip(masked[1].scalars, m.scalars).allSatisfy { $1 != 0 || $0 == 0 })
    }

    @Test(arguments: 0..<3)
    func convolutionTransposeEqualsTheDenseOpWithTheMaskedFilter(caseIndex: Int) {
        let g = Self.chunkCases[caseIndex], cout = 7
        let (m, pattern) = Self.mask(g, cout: cout, seed: 40)
        let dy = GradientCheck.random([g.patchCount, cout], seed: 41)
        let w = GradientCheck.random([g.patchSize, cout], seed: 42, scale: 0.3)
        Self.assertSame(Tensor.convolutionTranspose(dy, w, g, mask: pattern), Tensor.convolutionTranspose(dy, w * m, g),
                        "masked convolutionTranspose value")
        let weights = GradientCheck.random([g.batch, g.height, g.width, g.channels], seed: 43)
        let masked = gradient(at: [dy, w]) { v in (Tensor.convolutionTranspose(v[0], v[1], g, mask: pattern) * weights).sum() }
        let dense = gradient(at: [dy, w]) { v in (Tensor.convolutionTranspose(v[0], v[1] * m, g) * weights).sum() }
        for (name, (got, want)) in zip(["dy", "w"], zip(masked, dense)) {
            Self.assertSame(got, want, tolerance: 1e-4, "masked convolutionTranspose gradient \(name)")
        }
        #expect(zip(masked[1].scalars, m.scalars).allSatisfy { $1 != 0 || $0 == 0 })
    }

    /// First order through the chunked sparse kernels, second order through the recorded
    /// pullbacks (patches with `maskedMatmul` and `maskedGram`).
    @Test func maskedOpsDifferentiate() {
        let g = Self.chunkCases[0], cout = 3
        let (pattern, x, w, b) = Self.operands(g, cout: cout, seed: 50, keep: 0.5)
        let dy = GradientCheck.random([g.patchCount, cout], seed: 54)
        let outWeights = GradientCheck.random([g.batch, g.outHeight, g.outWidth, cout], seed: 55)
        let inWeights = GradientCheck.random([g.batch, g.height, g.width, g.channels], seed: 56)
        GradientCheck.check([x, w, b], "masked convolution") { v in
            (Tensor.convolution(v[0], v[1], v[2], g, mask: pattern).squared() * outWeights).sum()
        }
        GradientCheck.check([dy, w], "masked convolutionTranspose") { v in
            (Tensor.convolutionTranspose(v[0], v[1], g, mask: pattern).squared() * inWeights).sum()
        }
    }

    /// Value and gradients bit for bit on 1, 2 and 3 threads (20 chunks in 7 groups).
    @Test func sameBitsOnAnyBudget() {
        let g = Self.chunkCases[1], cout = 5
        let (pattern, x, w, b) = Self.operands(g, cout: cout, seed: 60, keep: 0.05)
        let weights = GradientCheck.random([g.batch, g.height, g.width, g.channels], seed: 64)
        func run() -> [[Float]] {
            let (value, grads) = valueAndGradient(at: [x, w, b]) { v in
                let y = Tensor.convolution(v[0], v[1], v[2], g, mask: pattern).reshaped([g.patchCount, cout])
                return (Tensor.convolutionTranspose(y, v[1], g, mask: pattern) * weights).sum()
            }
            return [value.scalars] + grads.map(\.scalars)
        }
        let one = Parallel.$threadBudget.withValue(1) { run() }
        for budget in [2, 3] {
            #expect(Parallel.$threadBudget.withValue(budget) { run() } == one, "budget \(budget)")
        }
    }
}
