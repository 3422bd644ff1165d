/// Products with a broadcast operand, without materialising the broadcast copy: the forward
/// product a ⊙ broadcast(x) and its adjoint with respect to x, reduce(g ⊙ a). Each gives the same
/// bits as broadcasting first and then `Elementwise.multiply` / `Strided.reduceSum`.
extension Strided {
    /// The longest row (floats) that `multiplyBroadcast` expands into scratch (32 KB, in L1).
    static let expandedRowLimit = 8192

    /// out[i] = a[i] · x[i with broadcast axes set to 0]; a and out have the `large` shape, x
    /// the `small` one (same rank, each axis equal or 1). Ranges of axis 0 run in parallel when
    /// the product is large (a function of the shape only).
    package static func multiplyBroadcast(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                          from small: [Int], to large: [Int], into out: UnsafeMutablePointer<Float>) {
        let (s, l) = coalesce(small, large)
        let total = l.reduce(1, *)
        if total == 0 { return }
        let rank = l.count
        if rank >= 2 && s[rank - 1] == 1 && s[rank - 2] == l[rank - 2] {
            // x's innermost kept axis scales runs of k (e.g. the NTK's input Gram [n₁,1,n₂,1] over
            // Δ₁Δ₂ᵀ [n₁,k,n₂,k] with k = 10): walk the other axes, one row of m runs of k per
            // step, multiplied by x's m values each repeated k times. That expanded row is built
            // when x's offset changes, so a broadcast axis above (the NTK's first k) reuses it;
            // the product is then one contiguous pass of m·k (the same products as one per run).
            let k = l[rank - 1]
            let (s2, l2) = (Array(s.dropLast()), Array(l.dropLast()))
            let row = l2[l2.count - 1] &* k
            Parallel.forEachRange(of: l2.count == 1 ? 1 : l2[0], work: l2.count == 1 ? total : total / l2[0]) {
                range in
                // (A long row, e.g. a column [N,1] over [N,K], is walked a run of k at a time.)
                guard row <= Self.expandedRowLimit else {
                    return walk(s2, l2, first: range) { xOffset, offset, m, _ in
                        for j in 0..<m {
                            let c = x[xOffset &+ j], base = (offset &+ j) &* k
                            let (a, out) = (a + base, out + base)
                            for i in 0..<k { out[i] = a[i] * c }
                        }
                    }
                }
                withUnsafeTemporaryAllocation(of: Float.self, capacity: row) { scratch in
                    let expanded = scratch.baseAddress!
                    var expandedOffset = -1
                    walk(s2, l2, first: range) { xOffset, offset, m, _ in
                        if xOffset != expandedOffset {
                            for j in 0..<m {
                                let c = x[xOffset &+ j], e = expanded + j &* k
                                for i in 0..<k { e[i] = c }
                            }
                            expandedOffset = xOffset
                        }
                        let base = offset &* k
                        let (a, out) = (a + base, out + base)
                        for t in 0..<(m &* k) { out[t] = a[t] * expanded[t] }
                    }
                }
            }
            return
        }
        Parallel.forEachRange(of: rank == 1 ? 1 : l[0], work: rank == 1 ? total : total / l[0]) { range in
            walk(s, l, first: range) { xOffset, offset, n, broadcast in
                let (a, out) = (a + offset, out + offset)
                if broadcast {
                    let c = x[xOffset]
                    for i in 0..<n { out[i] = a[i] * c }
                } else {
                    let x = x + xOffset
                    for i in 0..<n { out[i] = a[i] * x[i] }
                }
            }
        }
    }

    /// out[j] = Σ g[i]·a[i] over all i that broadcast from j: the adjoint of `multiplyBroadcast`
    /// with respect to x. False (nothing written) for the one pattern `reduceSum` sums in row
    /// blocks (a sum over leading rows); the caller then multiplies and reduces in two passes.
    package static func multiplyReduce(_ g: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
                                       from large: [Int], to small: [Int], into out: UnsafeMutablePointer<Float>)
        -> Bool {
        let (s, l) = coalesce(small, large)
        if s.count == 2 && s[0] == 1 && s[1] == l[1] { return false }
        out.update(repeating: 0, count: small.reduce(1, *))
        let total = l.reduce(1, *)
        if total == 0 { return true }
        // Ranges of axis 0 write disjoint outputs only when axis 0 is kept.
        let parallel = l.count > 1 && s[0] == l[0]
        Parallel.forEachRange(of: parallel ? l[0] : 1, work: parallel ? total / l[0] : total) { range in
            walk(s, l, first: parallel ? range : nil) { outOffset, offset, n, broadcast in
                let (g, a) = (g + offset, a + offset)
                if broadcast {
                    out[outOffset] += dot(g, a, count: n)
                } else {
                    let out = out + outOffset
                    for i in 0..<n { out[i] += g[i] * a[i] }
                }
            }
        }
        return true
    }

    /// Σ g[i]·a[i] in the lane order of `sum` (the same bits as multiplying, then `sum`).
    @inlinable
    static func dot(_ g: UnsafePointer<Float>, _ a: UnsafePointer<Float>, count n: Int) -> Float {
        typealias V = SIMD8<Float>
        var partial = V.zero
        let vectorEnd = n - n % 8
        var i = 0
        while i < vectorEnd {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            partial += gi * UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            i &+= 8
        }
        var total = partial.sum()
        while i < n { total += g[i] * a[i]; i &+= 1 }
        return total
    }
}
