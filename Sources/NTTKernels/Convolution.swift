/// A convolution and its two gradients, one chunk of images at a time.
///
/// The plain way — build the whole patch matrix P [N·oh·ow, kh·kw·cin], one GEMM, and for the
/// input gradient one GEMM into a patch-shaped matrix that col2im folds back — moves tens of
/// megabytes through memory per LeNet-5 step (the matrices are 11–25× the image). Here each
/// chunk of a few images builds its part of P (or of the patch gradient) in a small buffer
/// that stays in the core's cache, and the GEMM or col2im that consumes it runs right away;
/// the filter gradient rebuilds the patches instead of keeping them from the forward pass.
///
/// Chunks and groups depend on the geometry only, never on the thread count, so results are
/// the same on any number of threads. These are the first-order kernels of `Tensor.convolution`
/// and `Tensor.convolutionTranspose`; their differentiable (higher-order) pullbacks use the plain
/// formulation.
///
/// With a sparse pattern M (a sparse student's filter, `SparsePattern` over [kh·kw·cin, cout]) the
/// filter is w ⊙ M and each chunk's product skips the pruned entries (`SparseProduct`): the same
/// values up to the order of the additions, and the filter gradient is zero outside M. At stride 1
/// the forward pass and the input gradient take `SparseConvolution` instead (the same bits), and
/// so does the filter gradient (the same values up to rounding).
package enum Convolution {
    /// Patch-matrix floats per chunk: 64k floats (256 KB) fit, with OpenBLAS's packed blocks,
    /// in a 1–2 MB level-2 cache.
    static let chunkFloats = 65_536

    /// Images per chunk, and the number of chunks.
    static func chunks(_ g: WindowGeometry) -> (images: Int, count: Int) {
        let perImage = max(1, g.outHeight * g.outWidth * g.patchSize)
        let images = max(1, min(g.batch, chunkFloats / perImage))
        return (images, (g.batch + images - 1) / images)
    }

    /// Calls `body(images, firstRow, rows, buffer)` for every chunk, spread over the threads;
    /// `buffer` holds rows × patchSize floats and belongs to that call.
    static func forEachChunk(_ g: WindowGeometry,
                             _ body: (Range<Int>, Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let (images, count) = chunks(g)
        let rowsPerImage = g.outHeight * g.outWidth
        Parallel.forEach(parts: count) { part in
            let range = (part * images)..<min(g.batch, (part + 1) * images)
            let rows = range.count * rowsPerImage
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: rows * g.patchSize)
            defer { buffer.deallocate() }
            body(range, range.lowerBound * rowsPerImage, rows, buffer)
        }
    }

    /// y = conv(x, w ⊙ M) + bias: x NHWC [N, H, W, cin], w [kh·kw·cin, cout] (HWIO flattened),
    /// M all ones when `pattern` is nil, bias [cout] or nil for none, y [N·oh·ow, cout].
    package static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, _ g: WindowGeometry, outChannels cout: Int,
                               pattern: SparsePattern? = nil, into y: UnsafeMutablePointer<Float>) {
        if let pattern, SparseConvolution.applies(to: g) {
            SparseConvolution.forward(x, w, bias: bias, g, outChannels: cout, pattern: pattern, into: y)
            return
        }
        forEachChunk(g) { images, firstRow, rows, patches in
            Im2col.patches(x, g, images: images, into: patches)
            let out = y + firstRow * cout
            if let pattern {
                SparseProduct.multiply(patches, rows: rows, w, pattern: pattern, bias: bias, into: out)
                return
            }
            if let bias { Strided.repeatRow(bias, count: cout, rows: rows, into: out) }
            Gemm.single(patches, transposeA: false, w, transposeB: false, into: out,
                        m: rows, n: cout, k: g.patchSize, beta: bias == nil ? 0 : 1)
        }
    }

    /// dx = col2im(dy · (w ⊙ M)ᵀ): dy [N·oh·ow, cout], w [kh·kw·cin, cout], M all ones when
    /// `pattern` is nil, dx NHWC [N, H, W, cin] (overwritten).
    package static func inputGradient(_ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                     _ g: WindowGeometry, outChannels cout: Int, pattern: SparsePattern? = nil,
                                     into dx: UnsafeMutablePointer<Float>) {
        if let pattern, SparseConvolution.applies(to: g) {
            SparseConvolution.inputGradient(dy, w, g, outChannels: cout, pattern: pattern, into: dx)
            return
        }
        forEachChunk(g) { images, firstRow, rows, patchGradient in
            if let pattern {
                SparseProduct.multiplyTransposed(dy + firstRow * cout, rows: rows, w, pattern: pattern,
                                                 into: patchGradient)
            } else {
                Gemm.single(dy + firstRow * cout, transposeA: false, w, transposeB: true,
                            into: patchGradient, m: rows, n: g.patchSize, k: cout, beta: 0)
            }
            Im2col.accumulate(patchGradient, g, images: images, into: dx)
        }
    }

    /// dw = (Pᵀ · dy) ⊙ M, P the patch matrix of x, M all ones when `pattern` is nil:
    /// dw [kh·kw·cin, cout] (overwritten).
    ///
    /// The chunks are split into at most 8 groups of consecutive chunks; each group sums its
    /// chunks' products in order into its own buffer, and the groups are added in order.
    package static func filterGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                      _ g: WindowGeometry, outChannels cout: Int, pattern: SparsePattern? = nil,
                                      into dw: UnsafeMutablePointer<Float>) {
        if let pattern, SparseConvolution.applies(to: g) {
            SparseConvolution.filterGradient(x, dy, g, outChannels: cout, pattern: pattern, into: dw)
            return
        }
        let (images, count) = chunks(g)
        let rowsPerImage = g.outHeight * g.outWidth, k = g.patchSize, size = k * cout
        guard count > 0 else { dw.update(repeating: 0, count: size); return }
        let groups = min(8, count), perGroup = (count + groups - 1) / groups
        let groupCount = (count + perGroup - 1) / perGroup
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(0, groupCount - 1) * size)
        defer { partials.deallocate() }
        Parallel.forEach(parts: groupCount) { group in
            let target = group == 0 ? dw : partials + (group - 1) * size
            let p = UnsafeMutablePointer<Float>.allocate(capacity: images * rowsPerImage * k)
            defer { p.deallocate() }
            for chunk in (group * perGroup)..<min(count, (group + 1) * perGroup) {
                let range = (chunk * images)..<min(g.batch, (chunk + 1) * images)
                let rows = range.count * rowsPerImage
                Im2col.patches(x, g, images: range, into: p)
                let first = chunk == group * perGroup, gradient = dy + range.lowerBound * rowsPerImage * cout
                if let pattern {
                    SparseProduct.maskedGram(p, gradient, rows: rows, pattern: pattern, into: target,
                                             accumulate: !first)
                } else {
                    Gemm.single(p, transposeA: true, gradient, transposeB: false,
                                into: target, m: k, n: cout, k: rows, beta: first ? 0 : 1)
                }
            }
        }
        for group in 1..<groupCount {
            let partial = partials + (group - 1) * size
            for i in 0..<size { dw[i] += partial[i] }
        }
    }
}
