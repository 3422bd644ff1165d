import Testing
import NTTKernels
@testable import NTTAutodiff

/// Central finite differences against the tape, in Float32.
///
/// Tolerances: with inputs of magnitude ~1 and step h = 1e-2, the truncation error of a central
/// difference is ~h²·|f'''|/6 ≈ 2e-5·|f'''| and the rounding error ~ε·|f|/h ≈ 1e-5·|f| (ε = 6e-8).
/// A sign flip or a missing term changes a derivative by O(1) relative, so a bound of
/// 1% relative plus 1e-3·(1 + |f|) absolute separates right from wrong with a wide margin.
enum GradientCheck {
    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1, offset: Float = 0) -> Tensor {
        var rng = SeededRandom(seed: seed, stream: "gradient-check")
        return Tensor(shape: shape,
                      scalars: (0..<shape.reduce(1, *)).map { _ in offset + scale * Float(rng.nextNormal()) })
    }

    /// A fixed random weighting so that Σ w ⊙ op(x) has a non-trivial gradient and Hessian.
    static func weights(like t: Tensor, seed: UInt64 = 99) -> Tensor { random(t.shape, seed: seed) }

    static func numericGradient(_ inputs: [Tensor], step h: Float, _ f: ([Tensor]) -> Tensor) -> [[Float]] {
        inputs.indices.map { k in
            (0..<inputs[k].count).map { i in
                func at(_ delta: Float) -> Float {
                    var xs = inputs
                    var values = xs[k].scalars
                    values[i] += delta
                    xs[k] = Tensor(shape: xs[k].shape, scalars: values)
                    return withoutDerivatives { f(xs).scalar }
                }
                return (at(h) - at(-h)) / (2 * h)
            }
        }
    }

    static func compare(_ analytic: [Tensor], _ numeric: [[Float]], value: Float, _ label: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        for (k, (a, n)) in zip(analytic, numeric).enumerated() {
            #expect(a.count == n.count, "\(label): gradient \(k) has \(a.count) entries, expected \(n.count)",
                    sourceLocation: sourceLocation)
            for (i, (x, y)) in zip(a.scalars, n).enumerated() {
                let tolerance = 1e-2 * max(abs(x), abs(y)) + 1e-3 * (1 + abs(value))
                if abs(x - y) > tolerance {
                    Issue.record("\(label): input \(k)[\(i)] analytic \(x) vs numeric \(y)",
                                 sourceLocation: sourceLocation)
                    return
                }
            }
        }
    }

    /// ∇f at `inputs` vs central differences.
    static func firstOrder(_ inputs: [Tensor], step: Float = 1e-2, _ label: String,
                           sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping ([Tensor]) -> Tensor) {
        let (value, grads) = valueAndGradient(at: inputs, of: f)
        compare(grads, numericGradient(inputs, step: step, f), value: value.scalar, label + " (first order)",
                sourceLocation: sourceLocation)
    }

    /// ∇h for h(x) = Σₖ ⟨∇ₖf(x), vₖ⟩ (computed by nested `gradient`, i.e. double backprop) vs
    /// central differences of h.
    static func secondOrder(_ inputs: [Tensor], step: Float = 1e-2, _ label: String,
                            sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping ([Tensor]) -> Tensor) {
        let directions = inputs.enumerated().map { random($1.shape, seed: 1000 + UInt64($0)) }
        let h: ([Tensor]) -> Tensor = { xs in
            zip(gradient(at: xs, of: f), directions).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
        }
        let (value, grads) = valueAndGradient(at: inputs, of: h)
        compare(grads, numericGradient(inputs, step: step, h), value: value.scalar, label + " (second order)",
                sourceLocation: sourceLocation)
    }

    /// Both orders.
    static func check(_ inputs: [Tensor], step: Float = 1e-2, _ label: String, secondOrder: Bool = true,
                      sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping ([Tensor]) -> Tensor) {
        firstOrder(inputs, step: step, label, sourceLocation: sourceLocation, f)
        if secondOrder { GradientCheck.secondOrder(inputs, step: step, label, sourceLocation: sourceLocation, f) }
    }

    static func assertClose(_ a: Tensor, _ b: [Float], shape: [Int], tolerance: Float = 1e-5, _ label: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.shape == shape, "\(label): shape \(a.shape) vs \(shape)", sourceLocation: sourceLocation)
        let scale = max(b.map(abs).max() ?? 0, 1)
        let error = zip(a.scalars, b).map { abs($0 - $1) }.max() ?? 0
        #expect(a.count == b.count && error <= tolerance * scale, "\(label): max error \(error)",
                sourceLocation: sourceLocation)
    }
}
