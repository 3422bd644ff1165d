extension SparseProduct {
    /// The multiply-adds of `multiplyTransposed(_:rows:_:pattern:support:into:)` for A with these
    /// class supports: per class, its rows times the kept entries in its supported columns.
    package static func groupedWork(rows n: Int, pattern: SparsePattern, support: GroupSupport) -> Int {
        var work = 0
        for c in 0..<min(support.groups, n) {
            let classRows = (n &- c &+ support.groups &- 1) / support.groups
            var kept = 0
            for q in support.columns(of: c) {
                kept &+= Int(pattern.columnStarts[Int(q) &+ 1] &- pattern.columnStarts[Int(q)])
            }
            work &+= classRows &* kept
        }
        return work
    }

    /// C = A·(W ⊙ M)ᵀ (A [n, N], W [K, N], C [n, K]) for an A whose rows of each class (row mod
    /// `support.groups`) are zero outside the class's columns: a sparse network's cotangents Δ
    /// pushed through a layer. Only the kept entries in a class's columns touch its rows:
    ///
    ///     C[r, p] = Σ_{q ∈ U_class(r), M[p,q] = 1} W[p, q] · A[r, q]
    ///
    /// the terms in increasing q, as `multiplyTransposed` adds them but without the zero ones, so
    /// the values are the same (up to the sign of a zero). One part per class (its own rows).
    package static func multiplyTransposed(_ a: UnsafePointer<Float>, rows n: Int, _ w: UnsafePointer<Float>,
                                           pattern: SparsePattern, support: GroupSupport,
                                           into c: UnsafeMutablePointer<Float>) {
        let (k, columns, outputs) = (support.groups, pattern.columns, pattern.rows)
        precondition(support.columns == columns, "SparseProduct: a support of \(support.columns) columns "
                     + "for a [\(outputs), \(columns)] mask")
        if n == 0 || outputs == 0 { return }
        pattern.columnStarts.withUnsafeBufferPointer { starts in
            pattern.columnRows.withUnsafeBufferPointer { keptRows in
                Parallel.forEach(parts: min(k, n)) { cls in
                    let classRows = (n &- cls &+ k &- 1) / k
                    for i in 0..<classRows { (c + (cls &+ i &* k) &* outputs).update(repeating: 0, count: outputs) }
                    // Row p of the output gets its terms in increasing q: walk the class's columns
                    // in order and add each kept entry's term to its row p.
                    for q in support.columns(of: cls) {
                        let q = Int(q)
                        for e in Int(starts[q])..<Int(starts[q &+ 1]) {
                            let p = Int(keptRows[e])
                            let weight = w[p &* columns &+ q]
                            var source = a + (cls &* columns &+ q), target = c + (cls &* outputs &+ p)
                            for _ in 0..<classRows {
                                target.pointee += weight * source.pointee
                                source += k &* columns
                                target += k &* outputs
                            }
                        }
                    }
                }
            }
        }
    }
}
