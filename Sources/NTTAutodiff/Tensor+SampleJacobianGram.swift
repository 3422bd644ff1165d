import NTTKernels

extension Tensor {
    /// The Gram J₁J₂ᵀ [n₁k, n₂k] of two sets of per-sample conv Jacobians J = `sampleJacobians`(P, Δ),
    /// computed chunk by chunk over patch entries (`SampleJacobianGram`) so that no J is held:
    /// for a conv layer with few output pixels and many weights (Conv-4's last layer: 189 MB of
    /// Jacobians per batch of 32, 1.2 MB of cotangents per sample) this keeps the NTK's memory at
    /// the size of its inputs. `s1` and `s2` differ only in their sample counts; `chunkColumns`
    /// (whole patch entries of about that many Jacobian columns per chunk) only for tests.
    ///
    /// The first-order pullback runs chunk by chunk too, rebuilding each chunk of J; a recorded
    /// pullback is built from the three faces of `sampleJacobians` and `matmul`, which
    /// differentiate to any order.
    package static func sampleJacobianGram(_ p1: Tensor, _ d1: Tensor, _ s1: SampleJacobianShape,
                                           _ p2: Tensor, _ d2: Tensor, _ s2: SampleJacobianShape,
                                           chunkColumns: Int = SampleJacobianGram.defaultChunkColumns) -> Tensor {
        var same = s2
        same.samples = s1.samples
        precondition(same == s1, "sampleJacobianGram: shapes \(s1) and \(s2) differ in more than their samples")
        check(p: p1, s1); check(d: d1, s1); check(p: p2, s2); check(d: d2, s2)
        let sizes = SampleJacobianGram.Sizes(outputs: s1.outputs, pixels: s1.pixels, patchSize: s1.patchSize,
                                             channels: s1.channels, chunkColumns: chunkColumns)
        let shape = [s1.samples * s1.outputs, s2.samples * s2.outputs]
        let out = make(shape) { o in
            withSides(p1, d1, s1, p2, d2, s2) { SampleJacobianGram.gram($0, $1, sizes, into: o) }
        }
        return recorded(shape, out, inputs: [p1, d1, p2, d2]) { g in
            if Recording.isEnabled {
                let j1 = sampleJacobians(patches: p1, cotangents: d1, s1)
                let j2 = sampleJacobians(patches: p2, cotangents: d2, s2)
                let dj1 = matmul(g, j2), dj2 = matmul(g, transposeA: true, j1)
                return [p1.node == nil ? nil : sampleJacobianPatchGrad(cotangents: d1, jacobians: dj1, s1),
                        d1.node == nil ? nil : sampleJacobianDeltaGrad(patches: p1, jacobians: dj1, s1),
                        p2.node == nil ? nil : sampleJacobianPatchGrad(cotangents: d2, jacobians: dj2, s2),
                        d2.node == nil ? nil : sampleJacobianDeltaGrad(patches: p2, jacobians: dj2, s2)]
            }
            // The kernel overwrites every element of the gradients it is given.
            let (dp1, dd1, dp2, dd2) = withGradientBuffers(p1, d1, p2, d2) { dp1, dd1, dp2, dd2 in
                g.withPointer { pg in
                    withSides(p1, d1, s1, p2, d2, s2) {
                        SampleJacobianGram.pullback(pg, $0, $1, sizes, into: .init(patches: dp1, cotangents: dd1),
                                                    .init(patches: dp2, cotangents: dd2))
                    }
                }
            }
            return zip([dp1, dd1, dp2, dd2], [p1, d1, p2, d2]).map { grad, x in
                grad.map { Tensor(shape: x.shape, scalars: $0) }
            }
        }
    }

    /// Uninitialised gradient buffers the size of four inputs (nil for an input off the tape),
    /// filled by `body`, which must write every element of each buffer it gets.
    static func withGradientBuffers(
        _ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: Tensor,
        _ body: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?,
                 UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
    ) -> ([Float]?, [Float]?, [Float]?, [Float]?) {
        func buffer(_ x: Tensor) -> [Float]? {
            x.node == nil ? nil : [Float](unsafeUninitializedCapacity: x.count) { $1 = x.count }
        }
        func pointer(_ a: inout [Float]?, _ body: (UnsafeMutablePointer<Float>?) -> Void) {
            if a == nil { body(nil) } else { a!.withUnsafeMutableBufferPointer { body($0.baseAddress!) } }
        }
        var (ga, gb, gc, gd) = (buffer(a), buffer(b), buffer(c), buffer(d))
        pointer(&ga) { pa in pointer(&gb) { pb in pointer(&gc) { pc in pointer(&gd) { pd in body(pa, pb, pc, pd) } } } }
        return (ga, gb, gc, gd)
    }

    /// The kernel's view of the two sides' patches and cotangents.
    private static func withSides(_ p1: Tensor, _ d1: Tensor, _ s1: SampleJacobianShape,
                                  _ p2: Tensor, _ d2: Tensor, _ s2: SampleJacobianShape,
                                  _ body: (SampleJacobianGram.Side, SampleJacobianGram.Side) -> Void) {
        p1.withPointer { pp1 in d1.withPointer { pd1 in p2.withPointer { pp2 in d2.withPointer { pd2 in
            body(.init(patches: pp1, cotangents: pd1, samples: s1.samples),
                 .init(patches: pp2, cotangents: pd2, samples: s2.samples))
        } } } }
    }
}
