import NTTKernels

extension Tensor {
    /// The patch matrix of an NHWC image for a kh×kw window: shape [N·oh·ow, kh·kw·C], columns
    /// ordered (kh, kw, C) like HWIO filters. Its pullback is `patchesAdjoint` (col2im) and
    /// vice versa, so convolutions built on it differentiate to any order.
    public func patches(windowHeight: Int, windowWidth: Int, strideHeight: Int = 1,
                        strideWidth: Int = 1, padding: Padding = .valid) -> Tensor {
        precondition(rank == 4, "patches: needs an NHWC tensor of rank 4, got shape \(shape)")
        precondition(windowHeight > 0 && windowWidth > 0 && strideHeight > 0 && strideWidth > 0,
                     "patches: window and stride must be positive")
        let g = WindowGeometry(batch: shape[0], height: shape[1], width: shape[2], channels: shape[3],
                               windowHeight: windowHeight, windowWidth: windowWidth,
                               strideHeight: strideHeight, strideWidth: strideWidth, padding: padding)
        precondition(g.outHeight > 0 && g.outWidth > 0,
                     "patches: a \(windowHeight)×\(windowWidth) window does not fit an image of "
                         + "\(shape[1])×\(shape[2]) with \(padding) padding")
        return patches(g)
    }

    package func patches(_ g: WindowGeometry) -> Tensor {
        let outShape = [g.patchCount, g.patchSize]
        let out = Tensor.make(outShape) { o in withPointer { Im2col.patches($0, g, into: o) } }
        return Tensor.recorded(outShape, out, inputs: [self]) { grad in [grad.patchesAdjoint(g)] }
    }

    /// col2im: scatter-adds a patch matrix back onto the image (the adjoint of `patches`).
    package func patchesAdjoint(_ g: WindowGeometry) -> Tensor {
        precondition(shape == [g.patchCount, g.patchSize],
                     "patchesAdjoint: shape \(shape) does not match the window geometry")
        let outShape = [g.batch, g.height, g.width, g.channels]
        let out = Tensor.make(outShape) { o in withPointer { Im2col.accumulate($0, g, into: o) } }
        return Tensor.recorded(outShape, out, inputs: [self]) { grad in [grad.patches(g)] }
    }

    /// conv(x, w) + b as one operation: x NHWC [N, H, W, cin] matching `g`, w the HWIO filter
    /// flattened to [kh·kw·cin, cout], b [cout]; the result is [N, oh, ow, cout]. Equal to
    /// `affine(x.patches(g), w, b)` up to the order of additions.
    ///
    /// The value and the first-order pullback run chunk by chunk (`Convolution`), without a
    /// full patch matrix. A pullback that is itself recorded (for a second derivative) is built
    /// from `patches`, `matmul` and `patchesAdjoint`, which differentiate to any order.
    ///
    /// With a `mask` (a sparse student's filter: the kept entries of m [kh·kw·cin, cout]) the
    /// filter is w ⊙ m, every product skips the pruned entries, and w's gradient is zero there;
    /// the recorded pullback then uses the masked products (`maskedMatmul`, `maskedGram`).
    package static func convolution(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ g: WindowGeometry,
                                    mask: SparsePattern? = nil) -> Tensor {
        precondition(x.shape == [g.batch, g.height, g.width, g.channels],
                     "convolution: input shape \(x.shape) does not match the window geometry")
        precondition(w.rank == 2 && w.shape[0] == g.patchSize,
                     "convolution: filter shape \(w.shape) should be [\(g.patchSize), cout]")
        let cout = w.shape[1]
        precondition(b.shape == [cout], "convolution: bias shape \(b.shape) does not match \(cout) output channels")
        checkMask(mask, w, "convolution")
        let shape = [g.batch, g.outHeight, g.outWidth, cout]
        let out = make(shape) { y in
            x.withPointer { px in w.withPointer { pw in b.withPointer { pb in
                Convolution.forward(px, pw, bias: pb, g, outChannels: cout, pattern: mask, into: y)
            } } }
        }
        return recorded(shape, out, inputs: [x, w, b]) { grad in
            let gy = grad.reshaped([g.patchCount, cout])
            let db = b.node == nil ? nil : gy.sum(toShape: [cout])
            let dx = x.node == nil ? nil : convolutionTranspose(gy, w, g, mask: mask)
            if Recording.isEnabled {
                guard w.node != nil else { return [dx, nil, db] }
                let p = x.patches(g)
                return [dx, mask.map { maskedGram(p, gy, mask: $0) } ?? matmul(p, transposeA: true, gy), db]
            }
            let dw = w.node == nil ? nil : Tensor(shape: w.shape, scalars: make(w.shape) { dw in
                x.withPointer { px in gy.withPointer { pg in
                    Convolution.filterGradient(px, pg, g, outChannels: cout, pattern: mask, into: dw)
                } }
            })
            return [dx, dw, db]
        }
    }

    /// col2im(dy · wᵀ): the adjoint of the convolution x ↦ patches(x)·w (a "transposed
    /// convolution"), dy [N·oh·ow, cout] and w [kh·kw·cin, cout] for `g`; the result is NHWC
    /// [N, H, W, cin]. Equal to `matmul(dy, w, transposeB: true).patchesAdjoint(g)` up to the
    /// order of additions, without the [N·oh·ow, kh·kw·cin] product (578 MB for the NTK's
    /// cotangents through Conv-4's second layer).
    ///
    /// The value and the first-order pullback (a convolution of the cotangent with w, and the
    /// filter gradient) run chunk by chunk (`Convolution`); a recorded pullback is built from
    /// `patches` and `matmul`, which differentiate to any order. A `mask` makes the filter w ⊙ m,
    /// as in `convolution`.
    package static func convolutionTranspose(_ dy: Tensor, _ w: Tensor, _ g: WindowGeometry,
                                             mask: SparsePattern? = nil) -> Tensor {
        precondition(w.rank == 2 && w.shape[0] == g.patchSize,
                     "convolutionTranspose: filter shape \(w.shape) should be [\(g.patchSize), cout]")
        let cout = w.shape[1]
        precondition(dy.shape == [g.patchCount, cout],
                     "convolutionTranspose: shape \(dy.shape) should be [\(g.patchCount), \(cout)]")
        checkMask(mask, w, "convolutionTranspose")
        let shape = [g.batch, g.height, g.width, g.channels]
        let out = make(shape) { dx in
            dy.withPointer { pd in w.withPointer { pw in
                Convolution.inputGradient(pd, pw, g, outChannels: cout, pattern: mask, into: dx)
            } }
        }
        return recorded(shape, out, inputs: [dy, w]) { grad in
            if Recording.isEnabled {
                let p = grad.patches(g)
                guard let mask else {
                    return [dy.node == nil ? nil : matmul(p, w), w.node == nil ? nil : matmul(p, transposeA: true, dy)]
                }
                return [dy.node == nil ? nil : maskedMatmul(p, w, mask: mask),
                        w.node == nil ? nil : maskedGram(p, dy, mask: mask)]
            }
            let ddy = dy.node == nil ? nil : Tensor(shape: dy.shape, scalars: make(dy.shape) { o in
                grad.withPointer { pg in w.withPointer { pw in
                    Convolution.forward(pg, pw, bias: nil, g, outChannels: cout, pattern: mask, into: o)
                } }
            })
            let dw = w.node == nil ? nil : Tensor(shape: w.shape, scalars: make(w.shape) { o in
                grad.withPointer { pg in dy.withPointer { pd in
                    Convolution.filterGradient(pg, pd, g, outChannels: cout, pattern: mask, into: o)
                } }
            })
            return [ddy, dw]
        }
    }

    /// A filter mask must list the entries of the [kh·kw·cin, cout] filter it goes with.
    private static func checkMask(_ mask: SparsePattern?, _ w: Tensor, _ op: String) {
        guard let mask else { return }
        precondition(mask.rows == w.shape[0] && mask.columns == w.shape[1],
                     "\(op): a [\(mask.rows), \(mask.columns)] mask for a filter of shape \(w.shape)")
    }

    /// 2-D convolution (cross-correlation, as in XLA) of an NHWC input with an HWIO filter:
    /// y = patches(x) · reshape(w, [kh·kw·cin, cout]), reshaped to [N, oh, ow, cout].
    public static func conv2d(_ x: Tensor, _ w: Tensor, strides: (Int, Int) = (1, 1),
                              padding: Padding = .valid) -> Tensor {
        precondition(x.rank == 4 && w.rank == 4,
                     "conv2d: needs input [N,H,W,C] and filter [kh,kw,cin,cout], got \(x.shape) and \(w.shape)")
        precondition(x.shape[3] == w.shape[2],
                     "conv2d: input has \(x.shape[3]) channels but the filter expects \(w.shape[2])")
        let g = WindowGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
                               windowHeight: w.shape[0], windowWidth: w.shape[1],
                               strideHeight: strides.0, strideWidth: strides.1, padding: padding)
        precondition(g.outHeight > 0 && g.outWidth > 0,
                     "conv2d: a \(w.shape[0])×\(w.shape[1]) filter does not fit a "
                         + "\(x.shape[1])×\(x.shape[2]) input with \(padding) padding")
        let cout = w.shape[3]
        let y = matmul(x.patches(g), w.reshaped([g.patchSize, cout]))
        return y.reshaped([g.batch, g.outHeight, g.outWidth, cout])
    }
}
