import Testing
@testable import NTTAutodiff

struct SampleJacobianGramTests {
    // 5 patch entries of 2 channels in chunks of at most 2 entries (4 columns): chunks 1, 2 and 2.
    let s1 = SampleJacobianShape(samples: 2, outputs: 2, pixels: 3, patchSize: 5, channels: 2)
    let s2 = SampleJacobianShape(samples: 3, outputs: 2, pixels: 3, patchSize: 5, channels: 2)
    var inputs: [Tensor] {
        [GradientCheck.random([2 * 3, 5], seed: 1), GradientCheck.random([2 * 2 * 3, 2], seed: 2),
         GradientCheck.random([3 * 3, 5], seed: 3), GradientCheck.random([3 * 2 * 3, 2], seed: 4)]
    }

    func chunked(_ v: [Tensor]) -> Tensor {
        Tensor.sampleJacobianGram(v[0], v[1], s1, v[2], v[3], s2, chunkColumns: 4)
    }

    func plain(_ v: [Tensor]) -> Tensor {
        Tensor.matmul(Tensor.sampleJacobians(patches: v[0], cotangents: v[1], s1),
                      Tensor.sampleJacobians(patches: v[2], cotangents: v[3], s2), transposeB: true)
    }

    /// The chunked Gram and its first-order (chunked) pullback against J₁J₂ᵀ from whole Jacobians.
    @Test(arguments: [4, 1, 10, 8192])
    func matchesTheGramOfWholeJacobians(chunkColumns: Int) {
        let v = inputs, weights = GradientCheck.random([4, 6], seed: 5)
        let (s1, s2) = (self.s1, self.s2)
        let gram = Tensor.sampleJacobianGram(v[0], v[1], s1, v[2], v[3], s2, chunkColumns: chunkColumns)
        let reference = plain(v)
        GradientCheck.assertClose(gram, reference.scalars, shape: [4, 6], "sampleJacobianGram")
        let got = gradient(at: v) { v in
            (Tensor.sampleJacobianGram(v[0], v[1], s1, v[2], v[3], s2, chunkColumns: chunkColumns) * weights).sum()
        }
        let want = gradient(at: v) { v in (plain(v) * weights).sum() }
        for (index, (g, w)) in zip(got, want).enumerated() {
            GradientCheck.assertClose(g, w.scalars, shape: w.shape, "sampleJacobianGram gradient \(index)")
        }
    }

    /// Finite differences, first order (chunked pullback) and second order (recorded pullback).
    @Test func differentiates() {
        let weights = GradientCheck.random([4, 6], seed: 6)
        GradientCheck.check(inputs, "sampleJacobianGram") { v in (chunked(v).squared() * weights).sum() }
    }

    /// Chunks and samples are shared out by shape: the same bits on one and on two threads.
    @Test func theSameBitsOnOneAndTwoThreads() {
        let v = inputs, weights = GradientCheck.random([4, 6], seed: 7)
        func all() -> [[Float]] {
            let (value, grads) = valueAndGradient(at: v) { v in (chunked(v).squared() * weights).sum() }
            return [chunked(v).scalars, [value.scalar]] + grads.map(\.scalars)
        }
        #expect(Threads.withBudget(2, all) == Threads.withBudget(1, all))
    }
}
