import Testing
@testable import NTTAutodiff

struct SampleJacobiansTests {
    let s = SampleJacobianShape(samples: 2, outputs: 3, pixels: 4, patchSize: 3, channels: 2)
    var p: Tensor { GradientCheck.random([2 * 4, 3], seed: 1) }
    var d: Tensor { GradientCheck.random([2 * 3 * 4, 2], seed: 2) }
    var j: Tensor { GradientCheck.random([2 * 3, 3 * 2], seed: 3) }

    @Test func facesMatchLoops() {
        var jac = [Float](repeating: 0, count: 6 * 6), dp = [Float](repeating: 0, count: 8 * 3),
            dd = [Float](repeating: 0, count: 24 * 2)
        for i in 0..<2 { for a in 0..<3 { for px in 0..<4 { for k in 0..<3 { for c in 0..<2 {
            let P = p.scalars[(i * 4 + px) * 3 + k], D = d.scalars[((i * 3 + a) * 4 + px) * 2 + c],
                J = j.scalars[(i * 3 + a) * 6 + k * 2 + c]
            jac[(i * 3 + a) * 6 + k * 2 + c] += P * D
            dp[(i * 4 + px) * 3 + k] += D * J
            dd[((i * 3 + a) * 4 + px) * 2 + c] += P * J
        } } } } }
        GradientCheck.assertClose(Tensor.sampleJacobians(patches: p, cotangents: d, s), jac, shape: [6, 6], "jacobians")
        GradientCheck.assertClose(Tensor.sampleJacobianPatchGrad(cotangents: d, jacobians: j, s), dp,
                                  shape: [8, 3], "patchGrad")
        GradientCheck.assertClose(Tensor.sampleJacobianDeltaGrad(patches: p, jacobians: j, s), dd,
                                  shape: [24, 2], "deltaGrad")
    }

    @Test func gradients() {
        let s = self.s
        let wj = GradientCheck.random([6, 6], seed: 4), wp = GradientCheck.random([8, 3], seed: 5),
            wd = GradientCheck.random([24, 2], seed: 6)
        GradientCheck.check([p, d], "sampleJacobians") { v in
            (Tensor.sampleJacobians(patches: v[0], cotangents: v[1], s).squared() * wj).sum()
        }
        GradientCheck.check([d, j], "patchGrad") { v in
            (Tensor.sampleJacobianPatchGrad(cotangents: v[0], jacobians: v[1], s).squared() * wp).sum()
        }
        GradientCheck.check([p, j], "deltaGrad") { v in
            (Tensor.sampleJacobianDeltaGrad(patches: v[0], jacobians: v[1], s).squared() * wd).sum()
        }
    }

    /// The three faces and batched products are shared out by sample: the same bits on one and
    /// on two threads.
    @Test func sharedOutBySampleWithTheSameBitsOnOneAndTwoThreads() {
        let s = SampleJacobianShape(samples: 6, outputs: 3, pixels: 16, patchSize: 20, channels: 5)
        let p = GradientCheck.random([6 * 16, 20], seed: 7), d = GradientCheck.random([6 * 3 * 16, 5], seed: 8)
        let j = GradientCheck.random([6 * 3, 20 * 5], seed: 9), b = GradientCheck.random([6, 16, 7], seed: 10)
        func all() -> [[Float]] {
            [Tensor.sampleJacobians(patches: p, cotangents: d, s).scalars,
             Tensor.sampleJacobianPatchGrad(cotangents: d, jacobians: j, s).scalars,
             Tensor.sampleJacobianDeltaGrad(patches: p, jacobians: j, s).scalars,
             Tensor.batchedMatmul(p.reshaped([6, 16, 20]), transposeA: true, b).scalars]
        }
        #expect(Threads.withBudget(2, all) == Threads.withBudget(1, all))
    }
}
