/// Stride-1 convolutions with a sparse filter w ⊙ M (a sparse student's) computed on whole image
/// planes, without a patch matrix.
///
/// At d = 0.03 a patch row meets two or three kept filter entries, so the patch-matrix form of
/// `Convolution` moves far more data than it multiplies: each image's patch matrix (or patch
/// gradient, 11–25× the image) is built, copied transposed into lanes, and for the cotangent push
/// stored one float at a time and folded back by col2im. Here an image is held channel by
/// channel in its padded frame (Hp × Wp, Hp = oh + kh − 1, Wp = ow + kw − 1), and an output
/// plane laid out at the frame's width is one contiguous run of `run` = (oh − 1)·Wp + ow
/// positions; the window offset (u, v) of a kept entry is a shift by u·Wp + v of that run:
///
///     y_co[t]       = b_co + Σ_{(u,v,ci,co) ∈ M} w · x_ci[t + u·Wp + v]      (forward)
///     dx_ci[t + s]  += Σ_{co : (u,v,ci,co) ∈ M} w · g_co[t],  s = u·Wp + v   (push, per (u, v, ci))
///
/// so every kept entry is a multiply-add over a contiguous run that stays in cache. The positions
/// t with ox ≥ ow fall on the frame's last kw − 1 columns: the forward computes and drops them,
/// the push reads zeros there and adds those zeros to frame positions (a no-op: a sum that starts
/// at +0 is never −0).
///
/// The values are bit for bit those of the patch-matrix form: each output adds the same kept
/// terms in the same order (increasing filter row for the forward; increasing co within a
/// patch column, then the window offsets in decreasing order as col2im visits them, for the
/// push). Images are independent and shared out between threads, so results do not depend on the
/// thread count. (For finite values: the extra columns' zeros times an infinite weight or input
/// are NaN, where the patch-matrix form never multiplies them.)
package enum SparseConvolution {
    /// Whether `g` takes the plane form: stride 1 and a nonempty output (other geometries use the
    /// patch matrix).
    package static func applies(to g: WindowGeometry) -> Bool {
        g.strideHeight == 1 && g.strideWidth == 1 && g.outHeight > 0 && g.outWidth > 0
    }

    /// y = conv(x, w ⊙ M) + bias: x NHWC [N, H, W, cin], w [kh·kw·cin, cout], bias [cout] or nil,
    /// y [N·oh·ow, cout] (overwritten).
    package static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                _ g: WindowGeometry, outChannels cout: Int, pattern: SparsePattern,
                                into y: UnsafeMutablePointer<Float>) {
        precondition(applies(to: g) && pattern.rows == g.patchSize && pattern.columns == cout)
        let frame = ConvolutionFrame(g)
        // Filter column co's kept entries in increasing row order: their weights, and each one's
        // offset into the channel-major frame (channel plane, then window shift).
        let count = pattern.count
        let kept = listed(pattern, byColumn: true) { p, co in w[p * cout + co] }
        let offsets = listed(pattern, byColumn: true) { p, _ in frame.offset(ofPatchColumn: p, g) }
        defer { kept.deallocate(); offsets.deallocate() }
        pattern.columnStarts.withUnsafeBufferPointer { starts in
            Parallel.forEachRange(of: g.batch, work: max(1, count) * frame.run) { images in
                let planes = UnsafeMutablePointer<Float>.allocate(capacity: g.channels * frame.plane)
                let outputs = UnsafeMutablePointer<Float>.allocate(capacity: cout * frame.lanes)
                defer { planes.deallocate(); outputs.deallocate() }
                for image in images {
                    frame.load(x + image * g.height * g.width * g.channels, g, into: planes)
                    for co in 0..<cout {
                        let entries = Int(starts[co])..<Int(starts[co + 1])
                        sumShifted(planes, entries: entries, weights: kept, sources: offsets, start: bias?[co] ?? 0,
                                   lanes: frame.lanes, into: outputs + co * frame.lanes, adding: false)
                    }
                    frame.store(outputs, g, channels: cout, into: y + image * g.outHeight * g.outWidth * cout)
                }
            }
        }
    }

    /// dx = col2im(dy · (w ⊙ M)ᵀ): dy [N·oh·ow, cout], w [kh·kw·cin, cout], dx NHWC [N, H, W, cin]
    /// (overwritten).
    package static func inputGradient(_ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ g: WindowGeometry,
                                      outChannels cout: Int, pattern: SparsePattern,
                                      into dx: UnsafeMutablePointer<Float>) {
        precondition(applies(to: g) && pattern.rows == g.patchSize && pattern.columns == cout)
        let frame = ConvolutionFrame(g)
        // Filter row p's kept entries in increasing column order: their weights, and each one's
        // cotangent plane.
        let count = pattern.count
        let kept = listed(pattern, byColumn: false) { p, co in w[p * cout + co] }
        let sources = listed(pattern, byColumn: false) { _, co in co * frame.lanes }
        defer { kept.deallocate(); sources.deallocate() }
        let (kh, kw, cin) = (g.windowHeight, g.windowWidth, g.channels)
        let imageSize = g.height * g.width * cin, outputSize = g.outHeight * g.outWidth * cout
        pattern.rowStarts.withUnsafeBufferPointer { starts in
            Parallel.forEachRange(of: g.batch, work: max(1, count) * frame.run) { images in
                let cotangents = UnsafeMutablePointer<Float>.allocate(capacity: cout * frame.lanes)
                let planes = UnsafeMutablePointer<Float>.allocate(capacity: cin * frame.plane)
                defer { cotangents.deallocate(); planes.deallocate() }
                for image in images {
                    frame.loadOutputs(dy + image * outputSize, g, channels: cout, into: cotangents)
                    planes.update(repeating: 0, count: cin * frame.plane)
                    // Window offsets in decreasing order: col2im adds a pixel's terms in that order.
                    for u in stride(from: kh - 1, through: 0, by: -1) {
                        for v in stride(from: kw - 1, through: 0, by: -1) {
                            for ci in 0..<cin {
                                let p = (u * kw + v) * cin + ci
                                let entries = Int(starts[p])..<Int(starts[p + 1])
                                if entries.isEmpty { continue }
                                sumShifted(cotangents, entries: entries, weights: kept, sources: sources, start: 0,
                                           lanes: frame.lanes,
                                           into: planes + ci * frame.plane + u * frame.width + v, adding: true)
                            }
                        }
                    }
                    frame.unload(planes, g, into: dx + image * imageSize)
                }
            }
        }
    }

    /// dw = (Pᵀ · dy) ⊙ M, P the patch matrix of x: x NHWC [N, H, W, cin], dy [N·oh·ow, cout], dw
    /// [kh·kw·cin, cout] (overwritten; zero at pruned entries).
    ///
    /// A kept entry (u, v, ci, co) gets Σ_images Σ_t x_ci[t + u·Wp + v] · g_co[t], one dot product
    /// of two contiguous runs per image (g is zero on the frame's extra columns and past `run`). The
    /// images are split into at most 8 groups of consecutive images by the batch size alone; each
    /// group sums its images in order, and the groups are added in order, so the result does not
    /// depend on the thread count. The order differs from the patch-matrix form's (its chunks'
    /// dot products run over patch rows), so the values agree up to rounding.
    package static func filterGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ g: WindowGeometry,
                                       outChannels cout: Int, pattern: SparsePattern,
                                       into dw: UnsafeMutablePointer<Float>) {
        precondition(applies(to: g) && pattern.rows == g.patchSize && pattern.columns == cout)
        dw.update(repeating: 0, count: g.patchSize * cout)
        let count = pattern.count
        if count == 0 || g.batch == 0 { return }
        let frame = ConvolutionFrame(g)
        // Each kept entry's input run (channel plane and window shift) and cotangent plane, in row order.
        let inputs = listed(pattern, byColumn: false) { p, _ in frame.offset(ofPatchColumn: p, g) }
        let outputs = listed(pattern, byColumn: false) { _, co in co * frame.lanes }
        defer { inputs.deallocate(); outputs.deallocate() }
        let groups = min(8, g.batch), perGroup = (g.batch + groups - 1) / groups
        let groupCount = (g.batch + perGroup - 1) / perGroup
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: groupCount * count)
        defer { partials.deallocate() }
        let imageSize = g.height * g.width * g.channels, outputSize = g.outHeight * g.outWidth * cout
        Parallel.forEach(parts: groupCount) { group in
            let planes = UnsafeMutablePointer<Float>.allocate(capacity: g.channels * frame.plane)
            let cotangents = UnsafeMutablePointer<Float>.allocate(capacity: cout * frame.lanes)
            defer { planes.deallocate(); cotangents.deallocate() }
            let sums = partials + group * count
            sums.update(repeating: 0, count: count)
            for image in (group * perGroup)..<min(g.batch, (group + 1) * perGroup) {
                frame.load(x + image * imageSize, g, into: planes)
                frame.loadOutputs(dy + image * outputSize, g, channels: cout, into: cotangents)
                for e in 0..<count {
                    sums[e] += dot(planes + inputs[e], cotangents + outputs[e], lanes: frame.lanes)
                }
            }
        }
        for p in 0..<pattern.rows {
            for e in Int(pattern.rowStarts[p])..<Int(pattern.rowStarts[p + 1]) {
                var total = partials[e]
                for group in 1..<groupCount { total += partials[group * count + e] }
                dw[p * cout + Int(pattern.rowColumns[e])] = total
            }
        }
    }

    /// `value(p, co)` of every kept entry of the pattern, in the order of its column lists
    /// (`byColumn`) or of its row lists. The caller deallocates the buffer.
    private static func listed<T>(_ pattern: SparsePattern, byColumn: Bool,
                                  _ value: (_ p: Int, _ co: Int) -> T) -> UnsafeMutablePointer<T> {
        let values = UnsafeMutablePointer<T>.allocate(capacity: max(1, pattern.count))
        let (starts, indices) = byColumn ? (pattern.columnStarts, pattern.columnRows)
                                         : (pattern.rowStarts, pattern.rowColumns)
        for list in 0..<(byColumn ? pattern.columns : pattern.rows) {
            for e in Int(starts[list])..<Int(starts[list + 1]) {
                let (p, co) = byColumn ? (Int(indices[e]), list) : (list, Int(indices[e]))
                (values + e).initialize(to: value(p, co))
            }
        }
        return values
    }

    /// Σ a[t]·b[t] over `lanes` (a multiple of 8) in a fixed order: 16 lanes at a time in two
    /// accumulators, the last 8 in the first.
    @inline(__always)
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, lanes: Int) -> Float {
        typealias V = SIMD8<Float>
        var (s0, s1) = (V.zero, V.zero)
        let (x, y) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
        var at = 0
        let end = lanes &* 4
        while at &+ 64 <= end {
            s0 += x.loadUnaligned(fromByteOffset: at, as: V.self) * y.loadUnaligned(fromByteOffset: at, as: V.self)
            s1 += x.loadUnaligned(fromByteOffset: at &+ 32, as: V.self)
                * y.loadUnaligned(fromByteOffset: at &+ 32, as: V.self)
            at &+= 64
        }
        if at < end {
            s0 += x.loadUnaligned(fromByteOffset: at, as: V.self) * y.loadUnaligned(fromByteOffset: at, as: V.self)
        }
        return (s0 + s1).sum()
    }

    /// out[t] (+)= start + Σ_{e ∈ entries} weights[e] · base[sources[e] + t] for t in 0..<lanes
    /// (a multiple of 8), the terms added in order; with `adding`, the sum is added to out[t].
    @inline(__always)
    private static func sumShifted(_ base: UnsafePointer<Float>, entries: Range<Int>,
                                   weights: UnsafePointer<Float>, sources: UnsafePointer<Int>, start: Float,
                                   lanes: Int, into out: UnsafeMutablePointer<Float>, adding: Bool) {
        typealias V = SIMD8<Float>
        let initial = V(repeating: start)
        let target = UnsafeMutableRawPointer(out)
        var t = 0
        // 32 lanes in four accumulators (eight SSE registers), then 8 at a time.
        while t &+ 32 <= lanes {
            var (s0, s1, s2, s3) = (initial, initial, initial, initial)
            for e in entries {
                let v = V(repeating: weights[e])
                let row = UnsafeRawPointer(base + (sources[e] &+ t))
                s0 += v * row.loadUnaligned(as: V.self)
                s1 += v * row.loadUnaligned(fromByteOffset: 32, as: V.self)
                s2 += v * row.loadUnaligned(fromByteOffset: 64, as: V.self)
                s3 += v * row.loadUnaligned(fromByteOffset: 96, as: V.self)
            }
            let at = t &* 4
            if adding {
                s0 = target.loadUnaligned(fromByteOffset: at, as: V.self) + s0
                s1 = target.loadUnaligned(fromByteOffset: at &+ 32, as: V.self) + s1
                s2 = target.loadUnaligned(fromByteOffset: at &+ 64, as: V.self) + s2
                s3 = target.loadUnaligned(fromByteOffset: at &+ 96, as: V.self) + s3
            }
            target.storeBytes(of: s0, toByteOffset: at, as: V.self)
            target.storeBytes(of: s1, toByteOffset: at &+ 32, as: V.self)
            target.storeBytes(of: s2, toByteOffset: at &+ 64, as: V.self)
            target.storeBytes(of: s3, toByteOffset: at &+ 96, as: V.self)
            t &+= 32
        }
        while t < lanes {
            var s = initial
            for e in entries {
                s += V(repeating: weights[e]) * UnsafeRawPointer(base + (sources[e] &+ t)).loadUnaligned(as: V.self)
            }
            if adding { s = target.loadUnaligned(fromByteOffset: t &* 4, as: V.self) + s }
            target.storeBytes(of: s, toByteOffset: t &* 4, as: V.self)
            t &+= 8
        }
    }
}
