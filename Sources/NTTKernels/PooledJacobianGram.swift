/// `SampleJacobianGram` for a conv layer whose output goes straight into a max-pool: the Gram
/// Θ = J₁J₂ᵀ of the per-sample Jacobians J_ia = P_iᵀ Δ_ia, taking the pool's cotangents D
/// instead of Δ. The pool's adjoint puts D[i,a,w,q] at one pixel s(i,w,q) of channel q
/// (the window's argmax) and zeros elsewhere, so
///
///   J_ia[p, q] = Σ_w P_i[s(i,w,q), p] · D[i,a,w,q]
///
/// sums over the W pooled pixels instead of the S conv pixels (a quarter for 2×2 windows).
/// The argmax pixels differ per channel, so per (sample, channel) the W selected patch rows are
/// gathered into a block Q [W, width] and J's k rows for that channel come from one product
/// D_iqᵀ Q (k × W × width): S/W times fewer multiply-adds than the dense Jacobians for a copy of
/// W·width floats per k·W·width of them. The sum equals Σ_s over the pool's adjoint up to
/// rounding order (overlapping windows too: a pixel picked by two windows is summed twice).
///
/// A chunk's Jacobian columns are ordered (channel, patch entry) — J's columns permuted, which
/// leaves the Gram and its pullback unchanged. Chunks are the same as `SampleJacobianGram`'s and
/// summed in order; samples are shared out between threads, each sample's work in a fixed order,
/// so results are the same on any number of threads.
package enum PooledJacobianGram {
    /// One side: its patches P [n·S, K], its pooled cotangents as [n, c, k, W] (`arrange`), the
    /// argmax pixel of each (sample, channel, pooled pixel) as [n, c, W] (`pixels`), its samples.
    package struct Side {
        package var patches: UnsafePointer<Float>
        package var cotangents: UnsafePointer<Float>
        package var pixels: UnsafePointer<Int32>
        package var samples: Int
        package init(patches: UnsafePointer<Float>, cotangents: UnsafePointer<Float>, pixels: UnsafePointer<Int32>,
                     samples: Int) {
            self.patches = patches; self.cotangents = cotangents; self.pixels = pixels; self.samples = samples
        }
    }

    /// The sizes of `SampleJacobianGram` and W pooled pixels per sample.
    package struct Sizes {
        package var base: SampleJacobianGram.Sizes
        package var pooled: Int
        package init(_ base: SampleJacobianGram.Sizes, pooled: Int) { self.base = base; self.pooled = pooled }
    }

    /// The argmax pixel table [n, c, W] from a max-pool's flat argmax indices into the
    /// [n, S, c] input, given per output element [n, W, c]; nil if an index is out of range.
    package static func pixels(fromArgmax indices: UnsafePointer<Int32>, samples n: Int, pixels s: Int,
                               pooled w: Int, channels c: Int) -> [Int32]? {
        var table = [Int32](repeating: 0, count: n * c * w)
        var valid = true
        table.withUnsafeMutableBufferPointer { t in
            for i in 0..<n {
                for o in 0..<w {
                    for q in 0..<c {
                        let flat = Int(indices[(i * w + o) * c + q]) - i * s * c
                        if flat < 0 || flat >= s * c || flat % c != q { valid = false; continue }
                        t[(i * c + q) * w + o] = Int32(flat / c)
                    }
                }
            }
        }
        return valid ? table : nil
    }

    /// D [n, k, W, c] → [n, c, k, W] (each (sample, channel) block contiguous), or back with
    /// `inverse`.
    package static func arrange(_ d: UnsafePointer<Float>, samples n: Int, outputs k: Int, pooled w: Int,
                                channels c: Int, inverse: Bool = false, into out: UnsafeMutablePointer<Float>) {
        // The blocked side walked in order (its runs of W are contiguous), the natural side at a
        // stride of c; a sample's k·W·c floats stay in cache between channels.
        Parallel.forEachRange(of: n, work: k * w * c) { samples in
            for i in samples {
                for q in 0..<c {
                    for a in 0..<k {
                        let blocked = ((i * c + q) * k + a) * w, natural = (i * k + a) * w * c + q
                        if inverse {
                            for o in 0..<w { out[natural + o * c] = d[blocked + o] }
                        } else {
                            for o in 0..<w { out[blocked + o] = d[natural + o * c] }
                        }
                    }
                }
            }
        }
    }

    /// Q [W, width]: the chunk's columns of the patch rows that channel q's argmax pixels pick.
    private static func gather(_ side: Side, _ z: Sizes, sample i: Int, channel q: Int, _ chunk: Range<Int>,
                               into block: UnsafeMutablePointer<Float>) {
        let (s, kk, c, w, width) = (z.base.pixels, z.base.patchSize, z.base.channels, z.pooled, chunk.count)
        let rows = side.pixels + (i * c + q) * w
        let patches = side.patches + i * s * kk + chunk.lowerBound
        for o in 0..<w {
            (block + o * width).update(from: patches + Int(rows[o]) * kk, count: width)
        }
    }

    /// Sample i's Jacobian rows over `chunk` (columns (q, p)) into j + i·k rows of c·width floats.
    private static func jacobianRows(_ side: Side, _ z: Sizes, sample i: Int, _ chunk: Range<Int>,
                                     block: UnsafeMutablePointer<Float>, into j: UnsafeMutablePointer<Float>) {
        let (k, c, w, width) = (z.base.outputs, z.base.channels, z.pooled, chunk.count)
        for q in 0..<c {
            gather(side, z, sample: i, channel: q, chunk, into: block)
            Gemm.single(side.cotangents + (i * c + q) * k * w, lda: w, transposeA: false,
                        block, ldb: width, transposeB: false,
                        into: j + i * k * c * width + q * width, ldc: c * width, m: k, n: width, k: w, beta: 0)
        }
    }

    /// J[:, chunk] for both sides, samples shared out between threads.
    private static func jacobianColumns(_ one: Side, _ two: Side, _ z: Sizes, _ chunk: Range<Int>,
                                        into j1: UnsafeMutablePointer<Float>, _ j2: UnsafeMutablePointer<Float>) {
        Parallel.forEach(parts: one.samples + two.samples) { part in
            let block = UnsafeMutablePointer<Float>.allocate(capacity: z.pooled * chunk.count)
            defer { block.deallocate() }
            let first = part < one.samples
            jacobianRows(first ? one : two, z, sample: first ? part : part - one.samples, chunk, block: block,
                         into: first ? j1 : j2)
        }
    }

    /// Θ = J₁J₂ᵀ [n₁k, n₂k] into `gram` (overwritten); with `kept`, the Jacobians are built there
    /// (`KeptJacobians.count` floats per side) and stay for `pullback`.
    package static func gram(_ one: Side, _ two: Side, _ z: Sizes, into gram: UnsafeMutablePointer<Float>,
                             keeping kept: KeptJacobians? = nil) {
        let (m, n, c) = (one.samples * z.base.outputs, two.samples * z.base.outputs, z.base.channels)
        let columns = z.base.chunkWidth * c
        let buffers = UnsafeMutablePointer<Float>.allocate(capacity: kept == nil ? (m + n) * columns : 0)
        defer { buffers.deallocate() }
        if z.base.patchSize == 0 || z.pooled == 0 { gram.update(repeating: 0, count: m * n); return }
        for (index, chunk) in z.base.chunks.enumerated() {
            let (j1, j2) = kept?.blocks(chunk, rows: m, n, channels: c) ?? (buffers, buffers + m * columns)
            jacobianColumns(one, two, z, chunk, into: j1, j2)
            Gemm.multiply(j1, transposeA: false, j2, transposeB: true, into: gram,
                          m: m, n: n, k: chunk.count * z.base.channels, beta: index == 0 ? 0 : 1)
        }
    }

    /// Where one side's gradients go (nil: not wanted), overwritten: dP [n·S, K] and dD in the
    /// [n, c, k, W] layout of `Side.cotangents`.
    package typealias Gradients = SampleJacobianGram.Gradients

    /// The pullback of `gram` for a cotangent G [n₁k, n₂k]: dJ₁ = G J₂, dJ₂ = Gᵀ J₁ chunk by
    /// chunk, then per (sample, channel) dD_iq += dJ_iq Qᵀ and dP_i[s(i,·,q), chunk] += D_iqᵀ dJ_iq.
    /// J is rebuilt chunk by chunk, or read from `kept` (filled by `gram` on the same sides).
    package static func pullback(_ g: UnsafePointer<Float>, _ one: Side, _ two: Side, _ z: Sizes,
                                 into d1: Gradients, _ d2: Gradients, kept: KeptJacobians? = nil) {
        let (k, s, kk, c, w) = (z.base.outputs, z.base.pixels, z.base.patchSize, z.base.channels, z.pooled)
        for (side, d) in [(one, d1), (two, d2)] {
            d.patches?.update(repeating: 0, count: side.samples * s * kk)
            if kk == 0 || w == 0 { d.cotangents?.update(repeating: 0, count: side.samples * k * w * c) }
        }
        if kk == 0 || w == 0 { return }
        SampleJacobianGram.forEachChunkCotangent(
            g, samples: (one.samples, two.samples), z.base, kept: kept,
            jacobians: { jacobianColumns(one, two, z, $0, into: $1, $2) }
        ) {
            index, chunk, first, i, dj in
            let (side, d) = first ? (one, d1) : (two, d2), width = chunk.count
            let block = UnsafeMutablePointer<Float>.allocate(capacity: 2 * w * width)
            defer { block.deallocate() }
            let dBlock = block + w * width
            for q in 0..<c {
                gather(side, z, sample: i, channel: q, chunk, into: block)
                let djq = dj + i * k * c * width + q * width
                if let dd = d.cotangents {  // dD_iq [k, W] += dJ_iq [k, width] · Qᵀ
                    Gemm.single(djq, lda: c * width, transposeA: false, block, ldb: width, transposeB: true,
                                into: dd + (i * c + q) * k * w, ldc: w, m: k, n: w, k: width,
                                beta: index == 0 ? 0 : 1)
                }
                if let dp = d.patches {  // dP_i[s(i,o,q), chunk] += (D_iqᵀ dJ_iq)[o]
                    Gemm.single(side.cotangents + (i * c + q) * k * w, lda: w, transposeA: true,
                                djq, ldb: c * width, transposeB: false,
                                into: dBlock, ldc: width, m: w, n: width, k: k, beta: 0)
                    let rows = side.pixels + (i * c + q) * w
                    let target = dp + i * s * kk + chunk.lowerBound
                    for o in 0..<w {
                        let row = target + Int(rows[o]) * kk, source = dBlock + o * width
                        for p in 0..<width { row[p] += source[p] }
                    }
                }
            }
        }
    }
}
