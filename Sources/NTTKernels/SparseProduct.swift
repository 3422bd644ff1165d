/// Products with a masked weight W ⊙ M (W [K, N] dense, M a 0/1 mask given by its kept entries,
/// `SparsePattern`) that touch only the kept entries: n·|M| multiply-adds instead of n·K·N.
///
/// The dense operand (n rows) is first copied transposed into scratch, its n rows padded to a
/// multiple of 8 "lanes", so that each kept entry adds one contiguous row of lanes, eight at a
/// time. Every output is a sum over the kept entries in increasing order, starting from the bias
/// (or 0), the same in every lane; output rows are shared between threads in ranges that depend
/// on the shapes only, so results do not depend on the thread count.
package enum SparseProduct {
    /// Masks at or below this density take the sparse products; denser ones stay dense GEMMs.
    /// Measured on whole LeNet-300-100 transfer steps (1 thread, every layer at density d, sparse
    /// against dense): 5–15% less time at d = 0.03, even at 0.05–0.07, 5–20% more at 0.1 and
    /// 20–60% more at 0.2–0.4 (the transposes into lanes and the strided stores of the outputs
    /// cost as much as the products at these sizes).
    package static let densityThreshold = 0.05

    /// C = A·(W ⊙ M) + bias row: A [n, K], W [K, N], C [n, N]; no bias means 0.
    ///
    ///     Cᵀ[q, ·] = b_q + Σ_{p : M[p,q] = 1} W[p, q] · Aᵀ[p, ·]
    package static func multiply(_ a: UnsafePointer<Float>, rows n: Int, _ w: UnsafePointer<Float>,
                                 pattern: SparsePattern, bias: UnsafePointer<Float>?,
                                 into c: UnsafeMutablePointer<Float>) {
        accumulate(a, rows: n, sourceColumns: pattern.rows, starts: pattern.columnStarts,
                   indices: pattern.columnRows, outputs: pattern.columns, w, outputStride: 1,
                   sourceStride: pattern.columns, bias: bias, into: c)
    }

    /// C = A·(W ⊙ M)ᵀ: A [n, N], W [K, N], C [n, K].
    ///
    ///     Cᵀ[p, ·] = Σ_{q : M[p,q] = 1} W[p, q] · Aᵀ[q, ·]
    package static func multiplyTransposed(_ a: UnsafePointer<Float>, rows n: Int, _ w: UnsafePointer<Float>,
                                           pattern: SparsePattern, into c: UnsafeMutablePointer<Float>) {
        accumulate(a, rows: n, sourceColumns: pattern.columns, starts: pattern.rowStarts,
                   indices: pattern.rowColumns, outputs: pattern.rows, w, outputStride: pattern.columns,
                   sourceStride: 1, bias: nil, into: c)
    }

    /// S = (Aᵀ·B) ⊙ M: A [n, K], B [n, N], S [K, N], zero at pruned entries (a sampled product:
    /// one dot product of n terms per kept entry). With `accumulate`, S's kept entries get the
    /// products added instead (S += (Aᵀ·B) ⊙ M) and its pruned entries are left as they are.
    package static func maskedGram(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows n: Int,
                                   pattern: SparsePattern, into s: UnsafeMutablePointer<Float>,
                                   accumulate: Bool = false) {
        let (k, columns) = (pattern.rows, pattern.columns)
        if k == 0 || columns == 0 { return }
        let lanes = (n + 7) & ~7
        let at = transposedLanes(a, rows: n, columns: k, lanes: lanes)
        let bt = transposedLanes(b, rows: n, columns: columns, lanes: lanes)
        defer { at.deallocate(); bt.deallocate() }
        pattern.rowStarts.withUnsafeBufferPointer { starts in
            pattern.rowColumns.withUnsafeBufferPointer { kept in
                let work = columns &+ pattern.count / k &* lanes
                Parallel.forEachRange(of: k, work: work) { range in
                    for p in range {
                        let out = s + p &* columns
                        if !accumulate { out.update(repeating: 0, count: columns) }
                        let x = at + p &* lanes
                        for e in Int(starts[p])..<Int(starts[p &+ 1]) {
                            let q = Int(kept[e])
                            let product = dot(x, bt + q &* lanes, lanes: lanes)
                            out[q] = accumulate ? out[q] + product : product
                        }
                    }
                }
            }
        }
    }

    /// Σ x[i]·y[i] over `lanes` (a multiple of 8) in a fixed order.
    @inline(__always)
    private static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, lanes: Int) -> Float {
        var wide = SIMD16<Float>.zero
        var i = 0
        while i &+ 16 <= lanes {
            wide += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
                * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            i &+= 16
        }
        var narrow = SIMD8<Float>.zero
        if i < lanes {
            narrow = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        }
        return wide.sum() + narrow.sum()
    }

    /// C[i, r] = bias[r] + Σ_{e ∈ starts[r]..<starts[r+1]} w[r·outputStride + s_e·sourceStride] · A[i, s_e]
    /// with s_e = indices[e], for A [n, sourceColumns] and C [n, outputs].
    ///
    /// Each thread takes a range of output rows r and walks it once per group of lanes, so the
    /// stores of one group go to 8 (or 32) rows of C, each at consecutive columns r: a few
    /// streams of writes instead of one scattered store per output (which cost more than the
    /// products at the sizes of a sparse network's cotangent pushes).
    private static func accumulate(_ a: UnsafePointer<Float>, rows n: Int, sourceColumns: Int,
                                   starts: [Int32], indices: [Int32], outputs: Int,
                                   _ w: UnsafePointer<Float>, outputStride: Int, sourceStride: Int,
                                   bias: UnsafePointer<Float>?, into c: UnsafeMutablePointer<Float>) {
        if n == 0 || outputs == 0 { return }
        typealias V = SIMD8<Float>
        let lanes = (n + 7) & ~7
        let at = transposedLanes(a, rows: n, columns: sourceColumns, lanes: lanes)
        defer { at.deallocate() }
        // Lanes i0..<i0+8 of output row r go to C[i, r].
        @inline(__always) func store(_ v: V, row r: Int, lane i0: Int) {
            let out = c + (i0 &* outputs &+ r)
            if i0 &+ 8 <= n {
                for l in 0..<8 { out[l &* outputs] = v[l] }
            } else {
                for l in 0..<(n &- i0) { out[l &* outputs] = v[l] }
            }
        }
        // The kept weights in pattern order, gathered once (the forward product reads W by
        // columns: one cache miss per kept entry and lane group otherwise).
        let kept = UnsafeMutablePointer<Float>.allocate(capacity: max(1, indices.count))
        defer { kept.deallocate() }
        starts.withUnsafeBufferPointer { starts in
            indices.withUnsafeBufferPointer { indices in
                let work = max(1, indices.count / outputs) &* lanes
                Parallel.forEachRange(of: outputs, work: work) { range in
                    for r in range {
                        let wr = w + r &* outputStride
                        for e in Int(starts[r])..<Int(starts[r &+ 1]) { kept[e] = wr[Int(indices[e]) &* sourceStride] }
                    }
                    var i0 = 0
                    // 32 lanes in four accumulators (eight SSE registers), then 8 at a time.
                    while i0 &+ 32 <= lanes {
                        for r in range {
                            let start = V(repeating: bias?[r] ?? 0)
                            var (s0, s1, s2, s3) = (start, start, start, start)
                            for e in Int(starts[r])..<Int(starts[r &+ 1]) {
                                let s = Int(indices[e])
                                let v = V(repeating: kept[e])
                                let row = UnsafeRawPointer(at + (s &* lanes &+ i0))
                                s0 += v * row.loadUnaligned(as: V.self)
                                s1 += v * row.loadUnaligned(fromByteOffset: 32, as: V.self)
                                s2 += v * row.loadUnaligned(fromByteOffset: 64, as: V.self)
                                s3 += v * row.loadUnaligned(fromByteOffset: 96, as: V.self)
                            }
                            store(s0, row: r, lane: i0)
                            store(s1, row: r, lane: i0 &+ 8)
                            store(s2, row: r, lane: i0 &+ 16)
                            store(s3, row: r, lane: i0 &+ 24)
                        }
                        i0 &+= 32
                    }
                    while i0 < lanes {
                        for r in range {
                            var s0 = V(repeating: bias?[r] ?? 0)
                            for e in Int(starts[r])..<Int(starts[r &+ 1]) {
                                let s = Int(indices[e])
                                s0 += V(repeating: kept[e])
                                    * UnsafeRawPointer(at + (s &* lanes &+ i0)).loadUnaligned(as: V.self)
                            }
                            store(s0, row: r, lane: i0)
                        }
                        i0 &+= 8
                    }
                }
            }
        }
    }

    /// A [rows, columns] copied transposed into fresh scratch [columns, lanes], lanes ≥ rows a
    /// multiple of 8, the padding zero. The caller deallocates it.
    private static func transposedLanes(_ a: UnsafePointer<Float>, rows: Int, columns: Int,
                                        lanes: Int) -> UnsafeMutablePointer<Float> {
        let t = UnsafeMutablePointer<Float>.allocate(capacity: max(1, columns &* lanes))
        // Bands of 8 rows of A become 8 consecutive floats of each row of the transpose.
        Parallel.forEachRange(of: lanes / 8, work: 8 &* columns) { bands in
            for band in bands {
                let i0 = band &* 8, valid = min(8, rows &- i0)
                let first = a + i0 &* columns
                if valid == 8 {
                    // Eight strided loads, one contiguous 8-float store (no test per element).
                    for j in 0..<columns {
                        let column = first + j, out = t + (j &* lanes &+ i0)
                        for l in 0..<8 { out[l] = column[l &* columns] }
                    }
                } else {
                    for j in 0..<columns {
                        let out = t + (j &* lanes &+ i0)
                        for l in 0..<8 { out[l] = l < valid ? first[l &* columns &+ j] : 0 }
                    }
                }
            }
        }
        return t
    }
}
