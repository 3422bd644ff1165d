import Testing
import NTTKernels
@testable import NTTAutodiff

struct PoolingTests {
    /// Distinct values so no window has a tie (ties are tested separately).
    static func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let n = shape.reduce(1, *)
        let order = rng.permutation(n)
        return Tensor(shape: shape, scalars: order.map { Float($0) * 0.37 - Float(n) * 0.18 })
    }

    @Test func maxPoolMatchesLoopAndDifferentiates() {
        let x = Self.distinct([2, 4, 6, 3], seed: 1)
        let y = x.maxPool(window: (2, 2))
        var expected: [Float] = []
        for b in 0..<2 { for oy in 0..<2 { for ox in 0..<3 { for c in 0..<3 {
            var m = -Float.infinity
            for dy in 0..<2 { for dx in 0..<2 {
                m = max(m, x.scalars[((b * 4 + oy * 2 + dy) * 6 + ox * 2 + dx) * 3 + c])
            } }
            expected.append(m)
        } } } }
        GradientCheck.assertClose(y, expected, shape: [2, 2, 3, 3], "maxPool")
        let w = GradientCheck.random([2, 2, 3, 3], seed: 2)
        // Values differ by ≥ 0.37 ≫ the step, so no difference quotient changes the argmax.
        GradientCheck.check([x], "maxPool") { v in (v[0].maxPool(window: (2, 2)).squared() * w).sum() }
        let same = x.maxPool(window: (3, 3), strides: (2, 2), padding: .same)
        #expect(same.shape == [2, 2, 3, 3])
        let w2 = GradientCheck.random(same.shape, seed: 3)
        GradientCheck.check([x], "maxPool same") { v in
            (v[0].maxPool(window: (3, 3), strides: (2, 2), padding: .same).squared() * w2).sum()
        }
    }

    @Test func maxPoolTiesGoToTheFirstElementInRowMajorOrder() {
        let x = Tensor(shape: [1, 2, 2, 1], scalars: [1, 3, 3, 3])
        #expect(gradient(at: x) { $0.maxPool(window: (2, 2)).sum() }.scalars == [0, 1, 0, 0])
        let flat = Tensor(repeating: 2, shape: [1, 2, 2, 1])
        #expect(gradient(at: flat) { $0.maxPool(window: (2, 2)).sum() }.scalars == [1, 0, 0, 0])
    }

    /// The pooled values come from the same sweep as the argmax positions: they equal the
    /// input at those positions, for channel counts on every kernel path (scalar, 8, 8 + overlap).
    @Test(arguments: [3, 8, 20])
    func maxPoolValuesAreTheInputAtTheIndices(channels: Int) {
        let g = WindowGeometry(batch: 2, height: 5, width: 6, channels: channels, windowHeight: 2, windowWidth: 2,
                               strideHeight: 2, strideWidth: 2, padding: .same)
        let x = Self.distinct([2, 5, 6, channels], seed: 9)  // no argmax changes under the difference step
        let (y, indices) = x.maxPool(g)
        #expect(y.shape == [2, 3, 3, channels])
        #expect(y.scalars == indices.map { x.scalars[Int($0)] })
        let w = GradientCheck.random(y.shape, seed: 10)
        GradientCheck.check([x], "maxPool(g) \(channels) channels") { v in (v[0].maxPool(g).value.squared() * w).sum() }
    }

    /// The max-pool adjoint over a batch whose images repeat (the NTK's cotangent rows): equal to
    /// a scatter with explicitly expanded indices, adjoint to its gather, and differentiable.
    @Test func repeatedMaxPoolAdjointIsAScatterThroughEachRowsImage() {
        let g = WindowGeometry(batch: 2, height: 4, width: 6, channels: 3, windowHeight: 2, windowWidth: 2,
                               strideHeight: 2, strideWidth: 2, padding: .valid)
        let (_, indices) = Self.distinct([2, 4, 6, 3], seed: 11).maxPool(g)
        let k = 3, layout = Pooling.ArgmaxLayout(g, repeats: k)
        let outPer = layout.outPerImage, inPer = layout.imageSize
        var expanded: [Int32] = []
        for r in 0..<(2 * k) {
            let i = r / k; expanded += indices[(i * outPer)..<((i + 1) * outPer)].map { $0 + Int32((r - i) * inPer) }
        }
        let y = GradientCheck.random([2 * k, 2, 3, 3], seed: 12), x = GradientCheck.random([2 * k, 4, 6, 3], seed: 13)
        let scattered = y.maxPoolAdjoint(indices, layout)
        #expect(scattered.shape == [2 * k, inPer])
        #expect(scattered.scalars == y.scattering(expanded, shape: [2 * k * inPer]).scalars)
        #expect(x.maxPoolGather(indices, layout).scalars == x.gathering(expanded, shape: [2 * k * outPer]).scalars)
        let lhs = (scattered * x.reshaped([2 * k, inPer])).sum().scalar
        let rhs = (y.reshaped([2 * k, outPer]) * x.maxPoolGather(indices, layout)).sum().scalar
        #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)))
        let w = GradientCheck.random([2 * k, inPer], seed: 14), v = GradientCheck.random([2 * k, outPer], seed: 15)
        GradientCheck.check([y], "maxPoolAdjoint repeated") { t in
            (t[0].maxPoolAdjoint(indices, layout).squared() * w).sum()
        }
        GradientCheck.check([x], "maxPoolGather repeated") { t in
            (t[0].maxPoolGather(indices, layout).squared() * v).sum()
        }
    }

    @Test func avgPoolMatchesLoopAndDifferentiates() {
        let x = GradientCheck.random([1, 5, 4, 2], seed: 4)
        let y = x.avgPool(window: (2, 2), strides: (2, 2), padding: .same)
        // 'same' on 5 rows: windows rows {0,1},{2,3},{4}; divisor counts in-image elements only.
        var expected: [Float] = []
        for oy in 0..<3 { for ox in 0..<2 { for c in 0..<2 {
            var s: Float = 0, n: Float = 0
            for iy in (oy * 2)..<min(oy * 2 + 2, 5) { for ix in (ox * 2)..<(ox * 2 + 2) {
                s += x.scalars[(iy * 4 + ix) * 2 + c]; n += 1
            } }
            expected.append(s / n)
        } } }
        GradientCheck.assertClose(y, expected, shape: [1, 3, 2, 2], "avgPool same")
        let w = GradientCheck.random(y.shape, seed: 5)
        GradientCheck.check([x], "avgPool") { v in
            (v[0].avgPool(window: (2, 2), strides: (2, 2), padding: .same).squared() * w).sum()
        }
        GradientCheck.check([x], "avgPool stride 1") { v in
            (v[0].avgPool(window: (2, 3), strides: (1, 1)).squared()).sum()
        }
    }

    @Test func gatherScatterAreAdjoint() {
        let x = GradientCheck.random([6], seed: 6)
        let idx: [Int32] = [5, 0, 5, 2]
        GradientCheck.assertClose(x.gathering(idx, shape: [2, 2]), idx.map { x.scalars[Int($0)] },
                                  shape: [2, 2], "gather")
        let y = GradientCheck.random([4], seed: 7)
        var s = [Float](repeating: 0, count: 6)
        for (i, j) in idx.enumerated() { s[Int(j)] += y.scalars[i] }
        GradientCheck.assertClose(y.scattering(idx, shape: [6]), s, shape: [6], "scatter")
        let w = GradientCheck.random([6], seed: 8)
        GradientCheck.check([y], "scatter") { v in (v[0].scattering(idx, shape: [6]).squared() * w).sum() }
        GradientCheck.check([x], "gather") { v in v[0].gathering(idx, shape: [4]).squared().sum() }
    }
}
