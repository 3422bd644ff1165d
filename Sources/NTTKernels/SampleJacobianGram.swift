/// The Gram Θ = J₁J₂ᵀ of a conv layer's per-sample Jacobians J_ia = P_iᵀ Δ_ia (rows (i, a),
/// columns (p, q) over K patch entries p and c channels q), and its pullback, without ever
/// holding a whole J: Θ = Σ_chunks J₁[:, chunk] J₂[:, chunk]ᵀ over chunks of patch entries,
/// each chunk's columns built in a small buffer and used at once.
///
/// Operands: patches P [n·S, K] (rows (i, s)), cotangents Δ [n·k·S, c] (rows (i, a, s)); Θ is
/// [n₁k, n₂k]. A chunk's Jacobian columns come from one GEMM per (sample, output) on a block of
/// P's columns (samples shared out between threads); the Gram and the pullback's G·J products
/// are `Gemm.multiply`. Chunks are a function of the shape only and are summed in order, so
/// results are the same on any number of threads. The pullback rebuilds each chunk (one more
/// Jacobian pass per side) — the price of not keeping the Jacobians for the backward pass.
package enum SampleJacobianGram {
    /// One side of the Gram: its patches and cotangents, and its sample count.
    package struct Side {
        package var patches: UnsafePointer<Float>
        package var cotangents: UnsafePointer<Float>
        package var samples: Int
        package init(patches: UnsafePointer<Float>, cotangents: UnsafePointer<Float>, samples: Int) {
            self.patches = patches; self.cotangents = cotangents; self.samples = samples
        }
    }

    /// Jacobian columns per chunk (the Gram's contracted length per product): long enough for
    /// an efficient product, small enough that a chunk of 2×320 rows (63 MB; four such buffers in
    /// the pullback) is cheap to hold. Each Jacobian GEMM packs its patch block and its cotangent
    /// anew (one per sample and output), about 1/c + 1/width floats per multiply-add, so wider
    /// chunks pack less: on Conv-4 (c = 64–128) `ntk/conv4` took 1.04–1.06× less time with 16,384
    /// columns than with 8,192 (one thread), 1.07× with 32,768, which raised the Conv-4 step's peak
    /// memory from 1375 to 1456 MB (1416 MB with this).
    package static let defaultChunkColumns = 24576

    /// The sizes shared by both sides: k outputs per sample, S pixels, K patch entries, c channels.
    package struct Sizes {
        package var outputs: Int, pixels: Int, patchSize: Int, channels: Int
        /// About this many Jacobian columns per chunk (whole patch entries, at least one).
        package var chunkColumns: Int
        package init(outputs: Int, pixels: Int, patchSize: Int, channels: Int,
                     chunkColumns: Int = SampleJacobianGram.defaultChunkColumns) {
            self.outputs = outputs; self.pixels = pixels; self.patchSize = patchSize; self.channels = channels
            self.chunkColumns = chunkColumns
        }

        /// Chunks: as few as keep each within about `chunkColumns` columns, of equal widths (±1),
        /// so that no chunk is a sliver (LeNet-5's conv2, K = 500 of 50 channels: 250 + 250, not
        /// 491 + 9: the same speed, measured, with smaller chunk buffers).
        private var chunkCount: Int {
            let widest = max(1, chunkColumns / max(1, channels))
            return (patchSize + widest - 1) / widest
        }
        /// Patch entries of the widest chunk (at least one).
        var chunkWidth: Int { chunkCount == 0 ? 1 : (patchSize + chunkCount - 1) / chunkCount }
        var chunks: [Range<Int>] {
            let count = chunkCount
            return (0..<count).map { i in i * patchSize / count..<(i + 1) * patchSize / count }
        }
    }

    /// J[:, chunk] for both sides: rows (i, a) of width·c floats, into j1 and j2.
    private static func jacobianColumns(_ one: Side, _ two: Side, _ z: Sizes, _ chunk: Range<Int>,
                                        into j1: UnsafeMutablePointer<Float>, _ j2: UnsafeMutablePointer<Float>) {
        let (k, s, kk, c, width) = (z.outputs, z.pixels, z.patchSize, z.channels, chunk.count)
        Parallel.forEach(parts: one.samples + two.samples) { part in
            let first = part < one.samples
            let (side, i, j) = first ? (one, part, j1) : (two, part - one.samples, j2)
            for a in 0..<k {
                let row = i * k + a
                Gemm.single(side.patches + i * s * kk + chunk.lowerBound, lda: kk, transposeA: true,
                            side.cotangents + row * s * c, ldb: c, transposeB: false,
                            into: j + row * width * c, ldc: c, m: width, n: c, k: s, beta: 0)
            }
        }
    }

    /// Θ = J₁J₂ᵀ [n₁k, n₂k] into `gram` (overwritten).
    package static func gram(_ one: Side, _ two: Side, _ z: Sizes, into gram: UnsafeMutablePointer<Float>) {
        let (m, n) = (one.samples * z.outputs, two.samples * z.outputs)
        let columns = z.chunkWidth * z.channels
        let j1 = UnsafeMutablePointer<Float>.allocate(capacity: m * columns)
        let j2 = UnsafeMutablePointer<Float>.allocate(capacity: n * columns)
        defer { j1.deallocate(); j2.deallocate() }
        if z.patchSize == 0 { gram.update(repeating: 0, count: m * n) }
        for (index, chunk) in z.chunks.enumerated() {
            jacobianColumns(one, two, z, chunk, into: j1, j2)
            Gemm.multiply(j1, transposeA: false, j2, transposeB: true, into: gram,
                          m: m, n: n, k: chunk.count * z.channels, beta: index == 0 ? 0 : 1)
        }
    }

    /// Where one side's gradients go (nil: not wanted): dP [n·S, K] and dΔ [n·k·S, c], overwritten.
    package struct Gradients {
        package var patches: UnsafeMutablePointer<Float>?
        package var cotangents: UnsafeMutablePointer<Float>?
        package init(patches: UnsafeMutablePointer<Float>?, cotangents: UnsafeMutablePointer<Float>?) {
            self.patches = patches; self.cotangents = cotangents
        }
    }

    /// The pullback of `gram` for a cotangent G [n₁k, n₂k]: dJ₁ = G J₂, dJ₂ = Gᵀ J₁ chunk by
    /// chunk, then dP_i[:, chunk] = Σ_a Δ_ia dJ_ia[chunk]ᵀ and dΔ_ia += P_i[:, chunk] dJ_ia[chunk].
    package static func pullback(_ g: UnsafePointer<Float>, _ one: Side, _ two: Side, _ z: Sizes,
                                 into d1: Gradients, _ d2: Gradients) {
        let (k, s, kk, c) = (z.outputs, z.pixels, z.patchSize, z.channels)
        if kk == 0 || k == 0 {  // nothing to contract: zero gradients (below, every element is written)
            for (side, d) in [(one, d1), (two, d2)] {
                d.cotangents?.update(repeating: 0, count: side.samples * k * s * c)
                d.patches?.update(repeating: 0, count: side.samples * s * kk)
            }
            return
        }
        forEachChunkCotangent(g, samples: (one.samples, two.samples), z, kept: nil,
                              jacobians: { jacobianColumns(one, two, z, $0, into: $1, $2) }) {
            index, chunk, first, i, dj in
            let (side, d) = first ? (one, d1) : (two, d2), width = chunk.count
            for a in 0..<k {
                let row = i * k + a
                if let dp = d.patches {  // dP_i[:, chunk] = Σ_a Δ_ia dJ_iaᵀ
                    Gemm.single(side.cotangents + row * s * c, lda: c, transposeA: false,
                                dj + row * width * c, ldb: c, transposeB: true,
                                into: dp + i * s * kk + chunk.lowerBound, ldc: kk,
                                m: s, n: width, k: c, beta: a == 0 ? 0 : 1)
                }
                if let dd = d.cotangents {  // dΔ_ia += P_i[:, chunk] dJ_ia
                    Gemm.single(side.patches + i * s * kk + chunk.lowerBound, lda: kk, transposeA: false,
                                dj + row * width * c, ldb: c, transposeB: false,
                                into: dd + row * s * c, ldc: c, m: s, n: c, k: width, beta: index == 0 ? 0 : 1)
                }
            }
        }
    }

    /// The chunk loop of both pullbacks (this one and `PooledJacobianGram`'s): per chunk of
    /// patch entries, `jacobians` fills J₁, J₂ [rows, width·c] for it (or, with `kept`, the
    /// chunk's blocks of the Jacobians kept from the forward pass are used), then dJ₁ = G J₂ and
    /// dJ₂ = Gᵀ J₁ (G [n₁k, n₂k]), then `perSample(chunk index, chunk, first side?, sample, dJ)`
    /// for every sample of both sides, shared out between threads.
    static func forEachChunkCotangent(
        _ g: UnsafePointer<Float>, samples: (Int, Int), _ z: Sizes, kept: KeptJacobians?,
        jacobians: (Range<Int>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
        perSample: (Int, Range<Int>, Bool, Int, UnsafePointer<Float>) -> Void
    ) {
        let (m, n, c) = (samples.0 * z.outputs, samples.1 * z.outputs, z.channels)
        let columns = z.chunkWidth * c
        let rebuilt = kept == nil ? m + n : 0
        let buffers = UnsafeMutablePointer<Float>.allocate(capacity: (rebuilt + m + n) * columns)
        defer { buffers.deallocate() }
        let (dj1, dj2) = (buffers + rebuilt * columns, buffers + (rebuilt + m) * columns)
        for (index, chunk) in z.chunks.enumerated() {
            let width = chunk.count
            var (j1, j2) = (buffers, buffers + m * columns)
            if let kept { (j1, j2) = kept.blocks(chunk, rows: m, n, channels: c) } else { jacobians(chunk, j1, j2) }
            Gemm.multiply(g, transposeA: false, j2, transposeB: false, into: dj1, m: m, n: width * c, k: n)
            Gemm.multiply(g, transposeA: true, j1, transposeB: false, into: dj2, m: n, n: width * c, k: m)
            Parallel.forEach(parts: samples.0 + samples.1) { part in
                let first = part < samples.0
                perSample(index, chunk, first, first ? part : part - samples.0, first ? dj1 : dj2)
            }
        }
    }
}
