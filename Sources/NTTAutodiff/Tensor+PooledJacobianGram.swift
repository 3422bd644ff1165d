import NTTKernels

/// One side of `pooledSampleJacobianGram`: a conv layer's patches P [n·S, K] and the cotangents
/// D at the output of the max-pool that follows it ([n·k, …] with W·c elements per row, rows
/// (sample, output)), with that pool's argmax positions ([n·W·c] flat indices into the pool's
/// [n, S, c] input, as `maxPool` gives them).
package struct PooledJacobianSide {
    package var patches: Tensor
    package var pooledCotangents: Tensor
    package var argmax: [Int32]
    package init(patches: Tensor, pooledCotangents: Tensor, argmax: [Int32]) {
        self.patches = patches; self.pooledCotangents = pooledCotangents; self.argmax = argmax
    }
}

extension Tensor {
    /// `sampleJacobianGram`(P₁, Δ₁, P₂, Δ₂) for Δ = the max-pool adjoint of D: the Gram of the
    /// per-sample conv Jacobians summed over the W pooled pixels instead of the S conv pixels
    /// (`PooledJacobianGram`; a quarter of the Jacobians' multiply-adds for 2×2 windows). `s1` and
    /// `s2` describe the conv layer (S pixels) and differ only in their sample counts; W is the
    /// pool's output pixels. The result equals the dense form's up to rounding order.
    ///
    /// The first-order pullback runs chunk by chunk on the pooled pixels too, building each chunk
    /// of the Jacobians again, or, with `keepJacobians` (and an input on the tape), reading them
    /// from where the forward pass built them, which then holds both sides' whole Jacobians
    /// (n·k·K·c floats each) until the tape lets go of this op; the same values either way. A
    /// recorded pullback goes through the dense form (`maxPoolAdjoint`, the faces of
    /// `sampleJacobians`, `matmul`), which differentiates to any order.
    package static func pooledSampleJacobianGram(_ one: PooledJacobianSide, _ s1: SampleJacobianShape,
                                                 _ two: PooledJacobianSide, _ s2: SampleJacobianShape,
                                                 pooled w: Int, keepJacobians: Bool = false,
                                                 chunkColumns: Int = SampleJacobianGram.defaultChunkColumns) -> Tensor {
        var same = s2
        same.samples = s1.samples
        precondition(same == s1, "pooledSampleJacobianGram: shapes \(s1) and \(s2) differ in more than their samples")
        let (k, s, c) = (s1.outputs, s1.pixels, s1.channels)
        for (side, shape) in [(one, s1), (two, s2)] {
            check(p: side.patches, shape)
            precondition(side.pooledCotangents.count == shape.samples * k * w * c
                            && side.argmax.count == shape.samples * w * c,
                         "pooledSampleJacobianGram: \(side.pooledCotangents.count) pooled cotangents and "
                            + "\(side.argmax.count) argmax positions for \(shape) with \(w) pooled pixels")
        }
        // The argmax pixel of each (sample, channel, pooled pixel), and D as [n, c, k, W].
        func table(_ side: PooledJacobianSide, _ n: Int) -> [Int32] {
            let t = side.argmax.withUnsafeBufferPointer {
                PooledJacobianGram.pixels(fromArgmax: $0.baseAddress!, samples: n, pixels: s, pooled: w, channels: c)
            }
            guard let t else { preconditionFailure("pooledSampleJacobianGram: an argmax position is out of range") }
            return t
        }
        func arranged(_ side: PooledJacobianSide, _ n: Int) -> [Float] {
            make([n * c * k * w]) { o in
                side.pooledCotangents.withPointer {
                    PooledJacobianGram.arrange($0, samples: n, outputs: k, pooled: w, channels: c, into: o)
                }
            }
        }
        let (n1, n2) = (s1.samples, s2.samples)
        let (t1, t2) = (table(one, n1), table(two, n2))
        let (a1, a2) = (arranged(one, n1), arranged(two, n2))
        let sizes = PooledJacobianGram.Sizes(
            .init(outputs: k, pixels: s, patchSize: s1.patchSize, channels: c, chunkColumns: chunkColumns), pooled: w)
        let sides = (one.patches, a1, t1, n1, two.patches, a2, t2, n2)
        let shape = [n1 * k, n2 * k]
        let (p1, d1, p2, d2) = (one.patches, one.pooledCotangents, two.patches, two.pooledCotangents)
        // Kept Jacobians, only when a pullback may read them.
        let keep = keepJacobians && [p1, d1, p2, d2].contains { $0.node != nil }
        func uninitialised(_ rows: Int) -> [Float] {
            let count = keep ? KeptJacobians.count(rows: rows, sizes.base) : 0
            return [Float](unsafeUninitializedCapacity: count) { $1 = count }
        }
        var (kept1, kept2) = (uninitialised(n1 * k), uninitialised(n2 * k))
        let out = make(shape) { o in
            withSides(sides) { one, two in
                guard keep else { return PooledJacobianGram.gram(one, two, sizes, into: o) }
                kept1.withUnsafeMutableBufferPointer { j1 in kept2.withUnsafeMutableBufferPointer { j2 in
                    PooledJacobianGram.gram(one, two, sizes, into: o,
                                            keeping: KeptJacobians(one: j1.baseAddress!, two: j2.baseAddress!))
                } }
            }
        }
        let (held1, held2) = (kept1, kept2)
        let (argmax1, argmax2) = (one.argmax, two.argmax)
        return recorded(shape, out, inputs: [p1, d1, p2, d2]) { g in
            if Recording.isEnabled {
                func layout(_ n: Int) -> Pooling.ArgmaxLayout {
                    .init(images: n, imageSize: s * c, outPerImage: w * c, repeats: k)
                }
                let dense1 = d1.reshaped([n1 * k, w * c]).maxPoolAdjoint(argmax1, layout(n1)).reshaped([n1 * k * s, c])
                let dense2 = d2.reshaped([n2 * k, w * c]).maxPoolAdjoint(argmax2, layout(n2)).reshaped([n2 * k * s, c])
                let j1 = sampleJacobians(patches: p1, cotangents: dense1, s1)
                let j2 = sampleJacobians(patches: p2, cotangents: dense2, s2)
                let dj1 = matmul(g, j2), dj2 = matmul(g, transposeA: true, j1)
                func pooledGrad(_ p: Tensor, _ dj: Tensor, _ shape: SampleJacobianShape, _ n: Int,
                                _ argmax: [Int32], like d: Tensor) -> Tensor {
                    sampleJacobianDeltaGrad(patches: p, jacobians: dj, shape)
                        .reshaped([n * k, s * c]).maxPoolGather(argmax, layout(n)).reshaped(d.shape)
                }
                return [p1.node == nil ? nil : sampleJacobianPatchGrad(cotangents: dense1, jacobians: dj1, s1),
                        d1.node == nil ? nil : pooledGrad(p1, dj1, s1, n1, argmax1, like: d1),
                        p2.node == nil ? nil : sampleJacobianPatchGrad(cotangents: dense2, jacobians: dj2, s2),
                        d2.node == nil ? nil : pooledGrad(p2, dj2, s2, n2, argmax2, like: d2)]
            }
            // dP overwritten by the kernel; dD in the arranged layout, then put back in D's.
            let (dp1, dd1, dp2, dd2) = withGradientBuffers(p1, d1, p2, d2) { dp1, dd1, dp2, dd2 in
                g.withPointer { pg in
                    withSides(sides) { one, two in
                        let g1 = PooledJacobianGram.Gradients(patches: dp1, cotangents: dd1)
                        let g2 = PooledJacobianGram.Gradients(patches: dp2, cotangents: dd2)
                        guard keep else { return PooledJacobianGram.pullback(pg, one, two, sizes, into: g1, g2) }
                        held1.withUnsafeBufferPointer { j1 in held2.withUnsafeBufferPointer { j2 in
                            PooledJacobianGram.pullback(pg, one, two, sizes, into: g1, g2, kept: KeptJacobians(
                                one: UnsafeMutablePointer(mutating: j1.baseAddress!),
                                two: UnsafeMutablePointer(mutating: j2.baseAddress!)))
                        } }
                    }
                }
            }
            func natural(_ blocked: [Float]?, _ n: Int) -> [Float]? {
                blocked.map { b in
                    make([b.count]) { o in
                        b.withUnsafeBufferPointer {
                            PooledJacobianGram.arrange($0.baseAddress!, samples: n, outputs: k, pooled: w, channels: c,
                                                       inverse: true, into: o)
                        }
                    }
                }
            }
            return zip([dp1, natural(dd1, n1), dp2, natural(dd2, n2)], [p1, d1, p2, d2]).map { grad, x in
                grad.map { Tensor(shape: x.shape, scalars: $0) }
            }
        }
    }

    /// The kernel's view of both sides: patches, arranged pooled cotangents, argmax pixel tables.
    private static func withSides(_ v: (Tensor, [Float], [Int32], Int, Tensor, [Float], [Int32], Int),
                                  _ body: (PooledJacobianGram.Side, PooledJacobianGram.Side) -> Void) {
        v.0.withPointer { p1 in v.4.withPointer { p2 in
            v.1.withUnsafeBufferPointer { d1 in v.5.withUnsafeBufferPointer { d2 in
                v.2.withUnsafeBufferPointer { r1 in v.6.withUnsafeBufferPointer { r2 in
                    body(.init(patches: p1, cotangents: d1.baseAddress!, pixels: r1.baseAddress!, samples: v.3),
                         .init(patches: p2, cotangents: d2.baseAddress!, pixels: r2.baseAddress!, samples: v.7))
                } }
            } }
        } }
    }
}
