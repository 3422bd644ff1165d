/// Shape-generic data movement: broadcasting, sum-reduction to a broadcastable shape, and axis
/// permutation, all on dense row-major buffers.
///
/// Broadcast and reduce are adjoints of each other: reduce(broadcast(x)) sums copies, and
/// ⟨broadcast(x), y⟩ = ⟨x, reduce(y)⟩.
package enum Strided {
    /// Merges neighbouring axes that are broadcast (or kept) together, so loops run long.
    /// Returns pairs (small, large) of equal rank ≥ 1.
    static func coalesce(_ small: [Int], _ large: [Int]) -> (small: [Int], large: [Int]) {
        var s: [Int] = [], l: [Int] = []
        for (a, b) in zip(small, large) where b != 1 {
            let broadcastAxis = (a == 1)
            if let last = s.last, let lastL = l.last, (last == 1) == broadcastAxis, !(last == 1 && lastL == 1) {
                s[s.count - 1] = last * a
                l[l.count - 1] = lastL * b
            } else {
                s.append(a); l.append(b)
            }
        }
        if s.isEmpty { return ([1], [1]) }
        return (s, l)
    }

    /// out[i] = x[i with broadcast axes set to 0]; `small` has the rank of `large`, each axis
    /// equal to it or 1.
    package static func broadcast(_ x: UnsafePointer<Float>, from small: [Int], to large: [Int],
                                 into out: UnsafeMutablePointer<Float>) {
        let (s, l) = coalesce(small, large)
        let total = l.reduce(1, *)
        if total == 0 { return }
        walk(s, l) { srcOffset, dstOffset, innerCount, innerBroadcast in
            if innerBroadcast {
                (out + dstOffset).update(repeating: x[srcOffset], count: innerCount)
            } else {
                (out + dstOffset).update(from: x + srcOffset, count: innerCount)
            }
        }
    }

    /// out[j] = Σ x[i] over all i that broadcast from j (the adjoint of `broadcast`).
    package static func reduceSum(_ x: UnsafePointer<Float>, from large: [Int], to small: [Int],
                                 into out: UnsafeMutablePointer<Float>) {
        let (s, l) = coalesce(small, large)
        if s.count == 2 && s[0] == 1 && s[1] == l[1] {
            return columnSums(x, rows: l[0], columns: l[1], into: out)
        }
        if s.count == 3 && s[0] == l[0] && s[1] == 1 && s[2] == l[2] {
            return middleSums(x, outer: l[0], middle: l[1], inner: l[2], into: out)
        }
        out.update(repeating: 0, count: small.reduce(1, *))
        let total = l.reduce(1, *)
        if total == 0 { return }
        // Ranges of a kept axis 0 write disjoint outputs (each still summed in the same order).
        let parallel = l.count > 1 && s[0] == l[0]
        Parallel.forEachRange(of: parallel ? l[0] : 1, work: parallel ? total / l[0] : total) { range in
            walk(s, l, first: parallel ? range : nil) { dstOffset, srcOffset, innerCount, innerBroadcast in
                let src = x + srcOffset
                if innerBroadcast {
                    out[dstOffset] += sum(src, count: innerCount)
                } else {
                    let dst = out + dstOffset
                    for i in 0..<innerCount { dst[i] += src[i] }
                }
            }
        }
    }

    /// out[a, c] = Σ_b x[a, b, c] for x [outer, middle, inner] (a conv layer's bias term: each
    /// cotangent image summed over its positions), b in increasing order from 0 as the general
    /// walk adds them; ranges of `outer` are shared out.
    static func middleSums(_ x: UnsafePointer<Float>, outer: Int, middle: Int, inner: Int,
                           into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: outer * inner)
        if middle == 0 || inner == 0 { return }
        Parallel.forEachRange(of: outer, work: middle * inner) { range in
            for a in range {
                let dst = out + a &* inner
                for b in 0..<middle {
                    let src = x + (a &* middle &+ b) &* inner
                    for c in 0..<inner { dst[c] += src[c] }
                }
            }
        }
    }

    /// out[j] = Σᵢ x[i, j] for a row-major [rows, columns] matrix (bias gradients). Rows are cut
    /// into at most 8 blocks of ~32k elements, a function of the shape only; blocks are summed
    /// in parallel, each row after row, and the block sums added in order.
    static func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        guard rows > 0 && columns > 0 else { return out.update(repeating: 0, count: columns) }
        let parts = max(1, min(8, rows, rows * columns / 32_768))
        let size = (rows + parts - 1) / parts, blocks = (rows + size - 1) / size
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(0, blocks - 1) * columns)
        defer { partials.deallocate() }
        Parallel.forEach(parts: blocks) { p in
            let target = p == 0 ? out : partials + (p - 1) * columns
            target.update(repeating: 0, count: columns)
            for r in (p * size)..<min(rows, (p + 1) * size) {
                let row = x + r * columns
                for j in 0..<columns { target[j] += row[j] }
            }
        }
        for p in 1..<max(1, blocks) {
            let partial = partials + (p - 1) * columns
            for j in 0..<columns { out[j] += partial[j] }
        }
    }

    /// out[r, j] = row[j] for every r < rows: a bias row repeated down a matrix.
    package static func repeatRow(_ row: UnsafePointer<Float>, count n: Int, rows: Int,
                                  into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { copy(row, to: out + r * n, count: n) }
    }

    /// A copy that stays inline for short runs (a `memmove` call per 5-float window row of an
    /// im2col, or per 10-float bias row, costs more than the copy).
    @inline(__always)
    static func copy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        if count > 32 { destination.update(from: source, count: count); return }
        for i in 0..<count { destination[i] = source[i] }
    }

    /// Σ x[0..<n] with eight independent partial sums (a single running sum is one long
    /// dependency chain and does not vectorise); the order is fixed, so results are reproducible.
    @inlinable
    package static func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        sum(x, count: n, { $0 }, { $0 })
    }

    /// Σ x[i]² in the order of `sum` over the squares (the same bits as squaring, then `sum`).
    @inlinable
    package static func sumOfSquares(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        sum(x, count: n, { $0 * $0 }, { $0 * $0 })
    }

    /// Σ term(x[i]) in eight lanes, then the tail; `lanes` and `term` must agree.
    @inlinable @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count n: Int, _ lanes: (SIMD8<Float>) -> SIMD8<Float>,
                    _ term: (Float) -> Float) -> Float {
        var partial = SIMD8<Float>.zero
        let vectorEnd = n - n % 8
        var i = 0
        while i < vectorEnd {
            partial += lanes(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
            i &+= 8
        }
        var total = partial.sum()
        while i < n { total += term(x[i]); i &+= 1 }
        return total
    }

    /// out[i] = r[i] > 0 ? x[i] : 0, as branch-free selects (the signs of activations are
    /// random, so a branch per element mispredicts half the time).
    @inlinable
    package static func keepWherePositive(_ x: UnsafePointer<Float>, reference r: UnsafePointer<Float>,
                                         into out: UnsafeMutablePointer<Float>, count n: Int) {
        typealias V = SIMD8<Float>
        let vectorEnd = n - n % 8
        var i = 0
        while i < vectorEnd {
            var v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            v.replace(with: 0, where: .!(UnsafeRawPointer(r + i).loadUnaligned(as: V.self) .> 0))
            UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: V.self)
            i &+= 8
        }
        while i < n { out[i] = r[i] > 0 ? x[i] : 0; i &+= 1 }
    }

    /// Whether every x[0..<n] equals `value` (a SIMD scan that stops at the first 64-element
    /// block holding another value).
    @inlinable
    package static func allEqual(_ x: UnsafePointer<Float>, count n: Int, to value: Float) -> Bool {
        typealias V = SIMD16<Float>
        let target = V(repeating: value)
        let blockEnd = n - n % 64
        var i = 0
        while i < blockEnd {
            let block = UnsafeRawPointer(x + i)  // 64 floats = 256 bytes, four 16-lane loads
            let differs = (block.loadUnaligned(as: V.self) .!= target)
                .| (block.loadUnaligned(fromByteOffset: 64, as: V.self) .!= target)
                .| (block.loadUnaligned(fromByteOffset: 128, as: V.self) .!= target)
                .| (block.loadUnaligned(fromByteOffset: 192, as: V.self) .!= target)
            if any(differs) { return false }
            i &+= 64
        }
        while i < n { if x[i] != value { return false }; i &+= 1 }
        return true
    }

    /// Iterates over the outer axes of a coalesced pair; calls body(smallOffset, largeOffset,
    /// innerCount, innerIsBroadcast) once per innermost run, for the indices `first` of axis 0
    /// (all of them by default).
    static func walk(_ s: [Int], _ l: [Int], first: Range<Int>? = nil,
                     _ body: (Int, Int, Int, Bool) -> Void) {
        let rank = l.count
        var smallStrides = [Int](repeating: 0, count: rank)
        var step = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            smallStrides[axis] = s[axis] == 1 ? 0 : step
            step *= s[axis]
        }
        let inner = l[rank - 1]
        let innerBroadcast = s[rank - 1] == 1 && l[rank - 1] != 1
        let range = first ?? 0..<l[0]
        // Runs per index of axis 0 (the whole buffer's runs when axis 0 is the inner axis).
        let runsPerFirst = rank == 1 ? 1 : l.dropFirst().reduce(1, *) / inner
        let start = rank == 1 ? 0 : range.lowerBound * runsPerFirst
        let outerCount = rank == 1 ? 1 : range.count * runsPerFirst
        var small = Odometer(extents: l, strides: smallStrides, first: rank == 1 ? 0 : range.lowerBound)
        for outer in start..<(start + outerCount) {
            body(small.offset, outer &* inner, inner, innerBroadcast)
            small.advance()
        }
    }

    /// out = x with axes permuted: out.shape[i] = shape[permutation[i]].
    package static func permute(_ x: UnsafePointer<Float>, shape: [Int], permutation: [Int],
                               into out: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        let total = shape.reduce(1, *)
        if total == 0 { return }
        var inStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            inStrides[axis] = inStrides[axis + 1] * shape[axis + 1]
        }
        let outShape = permutation.map { shape[$0] }
        let strides = permutation.map { inStrides[$0] }
        if rank == 1 { return out.update(from: x, count: total) }
        // Ranges of the first output axis are independent: they are shared out between threads.
        if rank == 2 && permutation == [1, 0] {
            // Blocked 2-D transpose for cache friendliness, 32-row bands at a time.
            let rows = shape[0], cols = shape[1], block = 32
            Parallel.forEachRange(of: (cols + block - 1) / block, work: block * rows) { bands in
                for j0 in stride(from: bands.lowerBound * block, to: min(cols, bands.upperBound * block), by: block) {
                    var i0 = 0
                    while i0 < rows {
                        for j in j0..<min(j0 + block, cols) {
                            let column = out + j &* rows, row0 = x + j
                            for i in i0..<min(i0 + block, rows) { column[i] = row0[i &* cols] }
                        }
                        i0 += block
                    }
                }
            }
            return
        }
        let inner = outShape[rank - 1], innerStride = strides[rank - 1]
        let perOuter = total / outShape[0]
        Parallel.forEachRange(of: outShape[0], work: perOuter) { range in
            var source = Odometer(extents: outShape, strides: strides, first: range.lowerBound)
            var dst = range.lowerBound * perOuter
            let runs = range.count * perOuter / inner
            if innerStride == 1 {
                // The last axis stays last (e.g. channels): contiguous runs, copied as such.
                for _ in 0..<runs {
                    (out + dst).update(from: x + source.offset, count: inner)
                    dst &+= inner
                    source.advance()
                }
                return
            }
            for _ in 0..<runs {
                // Unchecked index arithmetic: offsets stay below `total` (a checked product in the
                // inner loop measured 2× slower on the NTK's permutations).
                let from = x + source.offset, to = out + dst
                for i in 0..<inner { to[i] = from[i &* innerStride] }
                dst &+= inner
                source.advance()
            }
        }
    }
}
