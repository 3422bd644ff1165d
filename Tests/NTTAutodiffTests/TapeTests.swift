import Testing
@testable import NTTAutodiff

struct TapeTests {
    @Test func secondAndThirdOrder() {
        let x = Tensor(shape: [3], scalars: [0.5, -1, 2])
        // f = Σ x³: ∇f = 3x², ∇⟨∇f, 1⟩ = 6x, and once more: 6.
        let g2 = gradient(at: x) { x in gradient(at: x) { ($0 * $0 * $0).sum() }.sum() }
        #expect(g2.scalars == [3, -6, 12])
        let g3 = gradient(at: x) { x in gradient(at: x) { x in gradient(at: x) { ($0 * $0 * $0).sum() }.sum() }.sum() }
        #expect(g3.scalars == [6, 6, 6])
    }

    @Test func jvpMatchesFiniteDifferences() {
        let a = GradientCheck.random([3, 4], seed: 1), b = GradientCheck.random([4, 2], seed: 2)
        let ta = GradientCheck.random([3, 4], seed: 3), tb = GradientCheck.random([4, 2], seed: 4)
        let f: ([Tensor]) -> Tensor = { v in Tensor.matmul(v[0], v[1]).exp() }
        let (value, tangent) = jvp(at: [a, b], tangents: [ta, tb], of: f)
        #expect(value.scalars == f([a, b]).scalars)
        let h: Float = 1e-3
        let plus = f([a + ta * h, b + tb * h]), minus = f([a - ta * h, b - tb * h])
        let numeric = zip(plus.scalars, minus.scalars).map { ($0 - $1) / (2 * h) }
        for (x, y) in zip(tangent.scalars, numeric) {
            let tolerance: Float = 1e-2 * max(abs(y), 1)
            #expect(abs(x - y) <= tolerance)
        }
    }

    @Test func pullbackIsReusableAndSeedsScale() {
        let x = GradientCheck.random([2, 2], seed: 5)
        let (y, pullback) = vjp(at: x) { $0 * $0 }
        #expect(y.scalars == x.scalars.map { $0 * $0 })
        let g1 = pullback(Tensor.ones([2, 2])), g2 = pullback(Tensor(repeating: 2, shape: [2, 2]))
        #expect(g1.scalars == x.scalars.map { 2 * $0 })
        #expect(g2.scalars == x.scalars.map { 4 * $0 })
    }

    @Test func constantsAndUnusedInputs() {
        let x = GradientCheck.random([3], seed: 6), y = GradientCheck.random([3], seed: 7)
        let g = gradient(at: [x, y]) { v in (v[0] * v[0]).sum() }
        #expect(g[1].scalars == [0, 0, 0])
        let d = gradient(at: x) { v in (v.detached * v).sum() }
        #expect(d.scalars == x.scalars)
        let untracked = withoutDerivatives { gradient(at: x) { ($0 * $0).sum() } }
        #expect(!untracked.isTracked)
        #expect(!withoutDerivatives { x.asVariable() * 2 }.isTracked)
    }

    @Test func sharedSubexpressionsAccumulate() {
        let x = Tensor(shape: [2], scalars: [1, 2])
        let g = gradient(at: x) { v in let s = v * 3; return (s + s * s).sum() }
        // d/dv (3v + 9v²) = 3 + 18v
        let expected: [Float] = [21, 39]
        #expect(g.scalars == expected)
    }
}

/// `valueAndGradient` with auxiliary results: the same value and gradients as the plain form,
/// the auxiliary tensors returned untracked.
struct AuxiliaryGradientTests {
    @Test func sameGradientAndDetachedAux() {
        let a = GradientCheck.random([3, 4], seed: 8), b = GradientCheck.random([4, 2], seed: 9)
        func parts(_ v: [Tensor]) -> (Tensor, Tensor) {
            let y = Tensor.matmul(v[0], v[1])
            return ((y * y).sum(), y.exp().sum())
        }
        let plain = valueAndGradient(at: [a, b]) { v in let (p, q) = parts(v); return p + q * 0.5 }
        let withAux = valueAndGradient(at: [a, b], ofValueAndAux: { v in
            let (p, q) = parts(v)
            return (p + q * 0.5, [p, q])
        })
        #expect(withAux.value.scalars == plain.value.scalars)
        #expect(withAux.gradients.map(\.scalars) == plain.gradients.map(\.scalars))
        #expect(withAux.aux.map(\.scalars) == [parts([a, b]).0.scalars, parts([a, b]).1.scalars])
        #expect(withAux.aux.allSatisfy { !$0.isTracked })
    }

    @Test func worksUnderAnOuterDerivative() {
        // d/dx of the inner gradient 3x² summed: 6x; the aux (Σx³) does not leak the outer tape.
        let x = Tensor(shape: [2], scalars: [1, -2])
        var inner: Tensor? = nil
        let g = gradient(at: x) { x in
            let r = valueAndGradient(at: [x], ofValueAndAux: { v in ((v[0] * v[0] * v[0]).sum(), v[0].sum()) })
            inner = r.aux
            return r.gradients[0].sum()
        }
        #expect(g.scalars == [6, -12])
        #expect(inner.map { !$0.isTracked && $0.scalars == [-1] } == true)
    }
}
