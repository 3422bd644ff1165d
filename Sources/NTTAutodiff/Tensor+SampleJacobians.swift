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
        return face(.jacobians, p, d, s)
    }

    public static func sampleJacobianPatchGrad(cotangents d: Tensor, jacobians j: Tensor,
                                               _ s: SampleJacobianShape) -> Tensor {
        check(d: d, s); check(j: j, s)
        return face(.patchGrad, d, j, s)
    }

    public static func sampleJacobianDeltaGrad(patches p: Tensor, jacobians j: Tensor,
                                               _ s: SampleJacobianShape) -> Tensor {
        check(p: p, s); check(j: j, s)
        return face(.deltaGrad, p, j, s)
    }

    private enum Face { case jacobians, patchGrad, deltaGrad }

    /// One face of T on its two operands (in the order of the public functions' arguments): per
    /// sample i (samples are shared out between threads), one GEMM per output a in order; its
    /// pullback is made of the other two faces.
    private static func face(_ f: Face, _ x: Tensor, _ y: Tensor, _ s: SampleJacobianShape) -> Tensor {
        let (pixels, size, channels, outputs) = (s.pixels, s.patchSize, s.channels, s.outputs)
        let shape = switch f {
        case .jacobians: [s.samples * outputs, size * channels]
        case .patchGrad: [s.samples * pixels, size]
        case .deltaGrad: [s.samples * outputs * pixels, channels]
        }
        let out = make(shape) { o in
            x.withPointer { px in y.withPointer { py in
                Parallel.forEach(parts: s.samples) { i in
                    for a in 0..<outputs {
                        let row = i * outputs + a
                        switch f {
                        case .jacobians:  // J_ia = P_iᵀ Δ_ia: x = P, y = Δ
                            Gemm.multiply(px + i * pixels * size, transposeA: true, py + row * pixels * channels,
                                          transposeB: false, into: o + row * size * channels,
                                          m: size, n: channels, k: pixels)
                        case .patchGrad:  // dP_i = Σ_a Δ_ia J_iaᵀ: x = Δ, y = J
                            Gemm.multiply(px + row * pixels * channels, transposeA: false, py + row * size * channels,
                                          transposeB: true, into: o + i * pixels * size,
                                          m: pixels, n: size, k: channels, beta: a == 0 ? 0 : 1)
                        case .deltaGrad:  // dΔ_ia = P_i J_ia: x = P, y = J
                            Gemm.multiply(px + i * pixels * size, transposeA: false, py + row * size * channels,
                                          transposeB: false, into: o + row * pixels * channels,
                                          m: pixels, n: channels, k: size)
                        }
                    }
                }
            } }
        }
        return recorded(shape, out, inputs: [x, y]) { g in
            switch f {
            case .jacobians:
                [x.node == nil ? nil : sampleJacobianPatchGrad(cotangents: y, jacobians: g, s),
                 y.node == nil ? nil : sampleJacobianDeltaGrad(patches: x, jacobians: g, s)]
            case .patchGrad:
                [x.node == nil ? nil : sampleJacobianDeltaGrad(patches: g, jacobians: y, s),
                 y.node == nil ? nil : sampleJacobians(patches: g, cotangents: x, s)]
            case .deltaGrad:
                [x.node == nil ? nil : sampleJacobianPatchGrad(cotangents: g, jacobians: y, s),
                 y.node == nil ? nil : sampleJacobians(patches: x, cotangents: g, s)]
            }
        }
    }

    static func check(p: Tensor, _ s: SampleJacobianShape) {
        precondition(p.shape == [s.samples * s.pixels, s.patchSize],
                     "sampleJacobians: patches shape \(p.shape) ≠ [\(s.samples * s.pixels), \(s.patchSize)]")
    }
    static func check(d: Tensor, _ s: SampleJacobianShape) {
        precondition(d.shape == [s.samples * s.outputs * s.pixels, s.channels],
                     "sampleJacobians: cotangents shape \(d.shape) ≠ "
                         + "[\(s.samples * s.outputs * s.pixels), \(s.channels)]")
    }
    private static func check(j: Tensor, _ s: SampleJacobianShape) {
        precondition(j.shape == [s.samples * s.outputs, s.patchSize * s.channels],
                     "sampleJacobians: Jacobians shape \(j.shape) ≠ "
                         + "[\(s.samples * s.outputs), \(s.patchSize * s.channels)]")
    }
}
