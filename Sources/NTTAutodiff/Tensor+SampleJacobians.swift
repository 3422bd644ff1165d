import NTTKernels

/// Sizes of a conv layer's per-sample Jacobian contraction: n samples, k output rows per sample,
/// S output pixels, K = kh·kw·cin patch entries, c output channels.
public struct SampleJacobianShape: Sendable, Hashable {
    public var samples: Int, outputs: Int, pixels: Int, patchSize: Int, channels: Int
    public init(samples: Int, outputs: Int, pixels: Int, patchSize: Int, channels: Int) {
        self.samples = samples; self.outputs = outputs; self.pixels = pixels
        self.patchSize = patchSize; self.channels = channels
    }
}

/// The three faces of one trilinear form T(P, Δ, J) = Σᵢₐ ⟨Pᵢᵀ Δᵢₐ, Jᵢₐ⟩ over patch matrices
/// P [n·S, K], cotangents Δ [n·k·S, c] (rows (i, a, s)) and Jacobians J [n·k, K·c]:
///
///     jacobians   J_ia = P_iᵀ Δ_ia        = ∂T/∂J
///     patchGrad   dP_i = Σ_a Δ_ia J_iaᵀ  = ∂T/∂P
///     deltaGrad   dΔ_ia = P_i J_ia        = ∂T/∂Δ
///
/// Each face's pullback is made of the other two, so the set is closed under differentiation
/// to any order. `jacobians` gives a conv layer's per-sample weight Jacobians directly in
/// (sample, output) row order, with no transposition of the large result.
extension Tensor {
    public static func sampleJacobians(patches p: Tensor, cotangents d: Tensor, _ s: SampleJacobianShape) -> Tensor {
        check(p: p, s); check(d: d, s)
        let shape = [s.samples * s.outputs, s.patchSize * s.channels]
        let out = perSampleProducts(shape, p, d, s) { i, a, row, pp, pd, o in
            Gemm.multiply(pp + i * s.pixels * s.patchSize, transposeA: true, pd + row * s.pixels * s.channels,
                          transposeB: false, into: o + row * s.patchSize * s.channels,
                          m: s.patchSize, n: s.channels, k: s.pixels)
        }
        return recorded(shape, out, inputs: [p, d]) { g in
            [p.node == nil ? nil : sampleJacobianPatchGrad(cotangents: d, jacobians: g, s),
             d.node == nil ? nil : sampleJacobianDeltaGrad(patches: p, jacobians: g, s)]
        }
    }

    public static func sampleJacobianPatchGrad(cotangents d: Tensor, jacobians j: Tensor, _ s: SampleJacobianShape) -> Tensor {
        check(d: d, s); check(j: j, s)
        let shape = [s.samples * s.pixels, s.patchSize]
        let out = perSampleProducts(shape, d, j, s) { i, a, row, pd, pj, o in
            Gemm.multiply(pd + row * s.pixels * s.channels, transposeA: false,
                          pj + row * s.patchSize * s.channels, transposeB: true,
                          into: o + i * s.pixels * s.patchSize,
                          m: s.pixels, n: s.patchSize, k: s.channels, beta: a == 0 ? 0 : 1)
        }
        return recorded(shape, out, inputs: [d, j]) { g in
            [d.node == nil ? nil : sampleJacobianDeltaGrad(patches: g, jacobians: j, s),
             j.node == nil ? nil : sampleJacobians(patches: g, cotangents: d, s)]
        }
    }

    public static func sampleJacobianDeltaGrad(patches p: Tensor, jacobians j: Tensor, _ s: SampleJacobianShape) -> Tensor {
        check(p: p, s); check(j: j, s)
        let shape = [s.samples * s.outputs * s.pixels, s.channels]
        let out = perSampleProducts(shape, p, j, s) { i, _, row, pp, pj, o in
            Gemm.multiply(pp + i * s.pixels * s.patchSize, transposeA: false, pj + row * s.patchSize * s.channels,
                          transposeB: false, into: o + row * s.pixels * s.channels,
                          m: s.pixels, n: s.channels, k: s.patchSize)
        }
        return recorded(shape, out, inputs: [p, j]) { g in
            [p.node == nil ? nil : sampleJacobianPatchGrad(cotangents: g, jacobians: j, s),
             j.node == nil ? nil : sampleJacobians(patches: p, cotangents: g, s)]
        }
    }

    /// The storage of a new tensor of `shape`, filled by `product(i, a, row, x, y, out)` for every
    /// sample i (samples are shared out between threads) and each of its outputs a in order
    /// (row = i·k + a), with x, y the storage of the two operands: the loop of all three faces.
    private static func perSampleProducts(
        _ shape: [Int], _ x: Tensor, _ y: Tensor, _ s: SampleJacobianShape,
        _ product: (_ i: Int, _ a: Int, _ row: Int, UnsafePointer<Float>, UnsafePointer<Float>,
                    UnsafeMutablePointer<Float>) -> Void
    ) -> [Float] {
        make(shape) { o in
            x.withPointer { px in y.withPointer { py in
                Parallel.forEach(parts: s.samples) { i in
                    for a in 0..<s.outputs { product(i, a, i * s.outputs + a, px, py, o) }
                }
            } }
        }
    }

    private static func check(p: Tensor, _ s: SampleJacobianShape) {
        precondition(p.shape == [s.samples * s.pixels, s.patchSize], "sampleJacobians: patches shape \(p.shape) ≠ [\(s.samples * s.pixels), \(s.patchSize)]")
    }
    private static func check(d: Tensor, _ s: SampleJacobianShape) {
        precondition(d.shape == [s.samples * s.outputs * s.pixels, s.channels], "sampleJacobians: cotangents shape \(d.shape) ≠ [\(s.samples * s.outputs * s.pixels), \(s.channels)]")
    }
    private static func check(j: Tensor, _ s: SampleJacobianShape) {
        precondition(j.shape == [s.samples * s.outputs, s.patchSize * s.channels], "sampleJacobians: Jacobians shape \(j.shape) ≠ [\(s.samples * s.outputs), \(s.patchSize * s.channels)]")
    }
}
