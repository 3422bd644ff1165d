import Testing
import NTTKernels
@testable import NTTAutodiff

struct PooledJacobianGramTests {
    /// A conv layer's output of 4×5 pixels and 3 channels (S = 20), 2 outputs per sample, 7 patch
    /// entries, pooled 2×2 (W = 4: the last column is never picked) or 3×3 with stride 2
    /// (overlapping: W = 2, a pixel can be picked by both windows).
    struct Case: CustomTestStringConvertible, Sendable {
        var window: Int, stride: Int
        var testDescription: String { "\(window)×\(window) stride \(stride)" }
        var pooled: Int { ((4 - window) / stride + 1) * ((5 - window) / stride + 1) }
    }
    static let cases = [Case(window: 2, stride: 2), Case(window: 3, stride: 1), Case(window: 3, stride: 2)]
    let k = 2, height = 4, width = 5, c = 3, kk = 7

    func shape(_ n: Int) -> SampleJacobianShape {
        SampleJacobianShape(samples: n, outputs: k, pixels: height * width, patchSize: kk, channels: c)
    }

    /// The argmax of a max-pool over random conv outputs of n samples.
    func argmax(_ n: Int, _ pool: Case, seed: UInt64) -> [Int32] {
        let g = WindowGeometry(batch: n, height: height, width: width, channels: c,
                               windowHeight: pool.window, windowWidth: pool.window,
                               strideHeight: pool.stride, strideWidth: pool.stride, padding: .valid)
        return GradientCheck.random([n, height, width, c], seed: seed).maxPool(g).indices
    }

    /// Inputs P₁, D₁, P₂, D₂ for 2 and 3 samples, and both sides' argmax.
    func inputs(_ pool: Case) -> ([Tensor], [Int32], [Int32]) {
        let w = pool.pooled
        func random(_ shape: [Int], _ seed: UInt64) -> Tensor { GradientCheck.random(shape, seed: seed) }
        return ([random([2 * height * width, kk], 1), random([2 * k, w * c], 2),
                 random([3 * height * width, kk], 3), random([3 * k, w * c], 4)],
                argmax(2, pool, seed: 5), argmax(3, pool, seed: 6))
    }

    func pooled(_ v: [Tensor], _ a1: [Int32], _ a2: [Int32], _ pool: Case, chunkColumns: Int = 6,
                keep: Bool = false) -> Tensor {
        Tensor.pooledSampleJacobianGram(PooledJacobianSide(patches: v[0], pooledCotangents: v[1], argmax: a1), shape(2),
                                        PooledJacobianSide(patches: v[2], pooledCotangents: v[3], argmax: a2), shape(3),
                                        pooled: pool.pooled, keepJacobians: keep, chunkColumns: chunkColumns)
    }

    /// The dense form: Δ = the max-pool adjoint of D, then the Gram of whole per-sample Jacobians.
    func dense(_ v: [Tensor], _ a1: [Int32], _ a2: [Int32], _ pool: Case) -> Tensor {
        func delta(_ d: Tensor, _ a: [Int32], _ n: Int) -> Tensor {
            let layout = Pooling.ArgmaxLayout(images: n, imageSize: height * width * c, outPerImage: pool.pooled * c,
                                              repeats: k)
            return d.maxPoolAdjoint(a, layout).reshaped([n * k * height * width, c])
        }
        return Tensor.matmul(Tensor.sampleJacobians(patches: v[0], cotangents: delta(v[1], a1, 2), shape(2)),
                             Tensor.sampleJacobians(patches: v[2], cotangents: delta(v[3], a2, 3), shape(3)),
                             transposeB: true)
    }

    /// Value and first-order (chunked, pooled) pullback against the dense form, for chunks of one
    /// patch entry, of a few, and of all of them.
    @Test(arguments: cases, [3, 6, 100])
    func matchesTheDenseForm(pool: Case, chunkColumns: Int) {
        let (v, a1, a2) = inputs(pool)
        let weights = GradientCheck.random([2 * k, 3 * k], seed: 7)
        GradientCheck.assertClose(pooled(v, a1, a2, pool, chunkColumns: chunkColumns), dense(v, a1, a2, pool).scalars,
                                  shape: [2 * k, 3 * k], "pooledSampleJacobianGram")
        let got = gradient(at: v) { v in (pooled(v, a1, a2, pool, chunkColumns: chunkColumns) * weights).sum() }
        let want = gradient(at: v) { v in (dense(v, a1, a2, pool) * weights).sum() }
        for (index, (g, w)) in zip(got, want).enumerated() {
            GradientCheck.assertClose(g, w.scalars, shape: w.shape, "pooledSampleJacobianGram gradient \(index)")
        }
    }

    /// The Jacobians kept from the forward pass give the pullback the same bits as building them
    /// again, for chunks of one patch entry, of a few, and of all of them; and the same value.
    @Test(arguments: cases, [3, 6, 100])
    func keptJacobiansGiveTheSameBits(pool: Case, chunkColumns: Int) {
        let (v, a1, a2) = inputs(pool)
        let weights = GradientCheck.random([2 * k, 3 * k], seed: 10)
        func all(keep: Bool) -> [[Float]] {
            let (value, grads) = valueAndGradient(at: v) { v in
                (pooled(v, a1, a2, pool, chunkColumns: chunkColumns, keep: keep) * weights).sum()
            }
            return [pooled(v, a1, a2, pool, chunkColumns: chunkColumns, keep: keep).scalars, [value.scalar]]
                + grads.map(\.scalars)
        }
        let kept = all(keep: true), rebuilt = all(keep: false)
        #expect(kept == rebuilt)
        #expect(kept[2...].contains { $0.contains { $0 != 0 } }, "the gradients should not all be zero")
    }

    /// Finite differences, first order (pooled pullback, with the Jacobians built again or kept)
    /// and second order (recorded pullback).
    @Test(arguments: cases, [false, true])
    func differentiates(pool: Case, keep: Bool) {
        let (v, a1, a2) = inputs(pool)
        let weights = GradientCheck.random([2 * k, 3 * k], seed: 8)
        GradientCheck.check(v, "pooledSampleJacobianGram \(pool.testDescription) keep \(keep)") { v in
            (pooled(v, a1, a2, pool, keep: keep).squared() * weights).sum()
        }
    }

    /// Samples are shared out by shape: the same bits on one and on two threads.
    @Test(arguments: [false, true])
    func theSameBitsOnOneAndTwoThreads(keep: Bool) {
        let pool = Self.cases[0]
        let (v, a1, a2) = inputs(pool)
        let weights = GradientCheck.random([2 * k, 3 * k], seed: 9)
        func all() -> [[Float]] {
            let (value, grads) = valueAndGradient(at: v) { v in
                (pooled(v, a1, a2, pool, keep: keep).squared() * weights).sum()
            }
            return [pooled(v, a1, a2, pool, keep: keep).scalars, [value.scalar]] + grads.map(\.scalars)
        }
        #expect(Threads.withBudget(2, all) == Threads.withBudget(1, all))
    }

    /// The argmax table refuses an index outside its sample or in another channel.
    @Test func pixelTableRejectsForeignIndices() {
        // 2 samples of 2 pixels and 2 channels, 1 pooled pixel: index (i·2 + s)·2 + q.
        let good: [Int32] = [0, 3, 6, 5]
        let table = good.withUnsafeBufferPointer {
            PooledJacobianGram.pixels(fromArgmax: $0.baseAddress!, samples: 2, pixels: 2, pooled: 1, channels: 2)
        }
        #expect(table == [0, 1, 1, 0])  // [n, c, W]
        for bad: [Int32] in [[0, 2, 6, 5], [0, 3, 2, 5], [-2, 3, 6, 5], [0, 3, 8, 5]] {
            let rejected = bad.withUnsafeBufferPointer {
                PooledJacobianGram.pixels(fromArgmax: $0.baseAddress!, samples: 2, pixels: 2, pooled: 1, channels: 2)
            }
            #expect(rejected == nil, "\(bad)")
        }
    }
}
