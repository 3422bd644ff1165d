import Testing
import NTTKernels
@testable import NTTLayers

/// Checks every layer family's rule against the tape: its cotangent push against the vjp of
/// its forward pass, and a parametrised layer's NTK term against Jacobians taken by reverse mode.
enum LayerRuleChecks {
    static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed, stream: "test.layers")
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextNormal()) })
    }

    /// max |a − b| / max |b|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        #expect(a.count == b.count)
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    /// The push of n·k cotangent rows (sample, output) equals, for each output a, the vjp of the
    /// traced forward pass with the rows (·, a) as seed.
    static func checkPush(_ rule: any LayerRule, input x: Tensor, parameters: LayerParameters?, outputs k: Int) {
        let (y, trace) = rule.tracedApply(x, parameters: parameters)
        let n = x.shape[0], outRest = Array(y.shape.dropFirst()), inRest = Array(x.shape.dropFirst())
        let outSize = outRest.reduce(1, *), inSize = inRest.reduce(1, *)
        let delta = random([n * k] + outRest, seed: 3)
        let layerDelta = (trace as? any ParametrisedLayerTrace)?.layerCotangents(delta) ?? delta
        let pushed = trace.pushCotangents(layerDelta, outputs: k)
        #expect(pushed.shape == [n * k] + inRest)
        let (_, pullback) = vjp(at: x) { rule.tracedApply($0, parameters: parameters).output }
        func rows(_ t: Tensor, output a: Int, size: Int) -> [Float] {
            var r: [Float] = []
            for i in 0..<n { r += t.scalars[((i * k + a) * size)..<((i * k + a + 1) * size)] }
            return r
        }
        for a in 0..<k {
            let seed = Tensor(shape: [n] + outRest, scalars: rows(delta, output: a, size: outSize))
            let expected = pullback(seed).scalars
            let got = rows(pushed, output: a, size: inSize)
            #expect(relativeError(got, expected) < 1e-6, "\(rule) output \(a)")
        }
    }

    /// The layer's NTK term equals Σ over its parameters of J₁J₂ᵀ, with J[(i,a)] the gradient of
    /// ⟨Δ_(i,a), z(xᵢ)⟩ w.r.t. (w, b) by reverse mode; with a mask, weight entries with m = 0 drop.
    static func checkKernelTerm(_ rule: any LayerRule, _ x1: Tensor, _ x2: Tensor, parameters p: LayerParameters,
                                outputs k: Int, mask: Tensor?, contraction: ConvContraction) {
        func jacobianRows(_ x: Tensor, _ delta: Tensor) -> [[Float]] {
            let n = x.shape[0], rest = Array(delta.shape.dropFirst()), size = rest.reduce(1, *)
            return (0..<(n * k)).map { row in
                var seed = [Float](repeating: 0, count: n * size)
                let i = row / k
                for e in 0..<size { seed[i * size + e] = delta.scalars[row * size + e] }
                let s = Tensor(shape: [n] + rest, scalars: seed)
                let g = gradient(at: [p.weight, p.bias]) { v in
                    (rule.tracedApply(x, parameters: LayerParameters(weight: v[0], bias: v[1])).output * s).sum()
                }
                let w = mask.map { m in zip(g[0].scalars, m.scalars).map { $0 * $1 } } ?? g[0].scalars
                return w + g[1].scalars
            }
        }
        let (y1, t1) = rule.tracedApply(x1, parameters: p), (y2, t2) = rule.tracedApply(x2, parameters: p)
        let d1 = random([x1.shape[0] * k] + y1.shape.dropFirst(), seed: 5)
        let d2 = random([x2.shape[0] * k] + y2.shape.dropFirst(), seed: 6)
        let trace = t1 as! any ParametrisedLayerTrace
        let term = trace.kernelTerm(pairedWith: t2, trace.layerCotangents(d1),
                                    (t2 as! any ParametrisedLayerTrace).layerCotangents(d2),
                                    outputs: k, mask: mask, contraction: contraction)
        #expect(term.shape == [x1.shape[0], k, x2.shape[0], k])
        let j1 = jacobianRows(x1, d1), j2 = jacobianRows(x2, d2)
        let expected = j1.flatMap { r1 in j2.map { r2 in zip(r1, r2).map { $0 * $1 }.reduce(0, +) } }
        #expect(relativeError(term.scalars, expected) < 1e-5, "\(rule) \(contraction) mask: \(mask != nil)")
    }
}
