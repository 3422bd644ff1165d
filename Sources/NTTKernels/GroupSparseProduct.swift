/// Products with a matrix D [R, P] whose rows of each class (row r in class r mod k) are zero
/// outside the class's columns (`GroupSupport`): a Gram D₁·D₂ᵀ and a product op(X)·D, each
/// class's share a product over its own columns only, through OpenBLAS on compact copies.
///
/// The values are those of the dense products up to the order of the additions: a skipped
/// column adds exact zeros there (unless the other operand holds an infinity or NaN). Work is
/// cut by class, and partial results are added in class order, so results do not depend on
/// the thread count.
package enum GroupSparseProduct {
    /// G = D₁·D₂ᵀ for D₁ [r1, P] with class supports `support`, D₂ [r2, P], G [r1, r2]:
    ///
    ///     G[rows of class c, ·] = D₁[rows of c, U_c] · D₂[·, U_c]ᵀ
    package static func gram(_ d1: UnsafePointer<Float>, rows r1: Int, support: GroupSupport,
                             _ d2: UnsafePointer<Float>, rows r2: Int, into g: UnsafeMutablePointer<Float>) {
        let k = support.groups, width = support.columns
        if r1 == 0 || r2 == 0 { return }
        Parallel.forEach(parts: min(k, r1)) { c in
            let classRows = (r1 &- c &+ k &- 1) / k
            let columns = support.columns(of: c), u = columns.count
            guard u > 0 else {
                for i in 0..<classRows { (g + (c &+ i &* k) &* r2).update(repeating: 0, count: r2) }
                return
            }
            let a = UnsafeMutablePointer<Float>.allocate(capacity: classRows &* u)
            let b = UnsafeMutablePointer<Float>.allocate(capacity: r2 &* u)
            defer { a.deallocate(); b.deallocate() }
            gatherColumns(d1, firstRow: c, rowStep: k, rows: classRows, width: width, columns, into: a)
            gatherColumns(d2, firstRow: 0, rowStep: 1, rows: r2, width: width, columns, into: b)
            Gemm.single(a, lda: u, transposeA: false, b, ldb: u, transposeB: true,
                        into: g + c &* r2, ldc: k &* r2, m: classRows, n: r2, k: u, beta: 0)
        }
    }

    /// C = op(X)·D for D [R, P] with class supports `support`, X [m, R] (stored [R, m] with
    /// `transposeX`), C [m, P]:
    ///
    ///     C = Σ_b op(X)[·, rows of class b] · D[rows of b, U_b]   (into C's columns U_b)
    ///
    /// Each class's product goes to scratch [m, |U_b|]; then C's rows are shared out and each
    /// adds the classes' columns in class order.
    package static func product(_ x: UnsafePointer<Float>, transposeX: Bool, rows m: Int,
                                _ d: UnsafePointer<Float>, rows r: Int, support: GroupSupport,
                                into c: UnsafeMutablePointer<Float>) {
        let k = support.groups, width = support.columns
        if m == 0 || width == 0 { return }
        let classes = min(k, r)
        // Class b's partial product starts at offsets[b] (m·|U_b| floats each).
        var offsets = [Int](repeating: 0, count: classes + 1)
        for b in 0..<classes { offsets[b + 1] = offsets[b] + m * support.columns(of: b).count }
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(1, offsets[classes]))
        defer { partials.deallocate() }
        offsets.withUnsafeBufferPointer { offsets in
            Parallel.forEach(parts: classes) { b in
                let classRows = (r &- b &+ k &- 1) / k
                let columns = support.columns(of: b), u = columns.count
                guard u > 0 else { return }
                let xb = UnsafeMutablePointer<Float>.allocate(capacity: m &* classRows)
                let db = UnsafeMutablePointer<Float>.allocate(capacity: classRows &* u)
                defer { xb.deallocate(); db.deallocate() }
                gatherColumns(d, firstRow: b, rowStep: k, rows: classRows, width: width, columns, into: db)
                if transposeX {
                    // op(X)[·, rows of b] = (X's rows of b)ᵀ: copy those rows, [classRows, m].
                    for i in 0..<classRows { (xb + i &* m).update(from: x + (b &+ i &* k) &* m, count: m) }
                } else {
                    for row in 0..<m {
                        let source = x + (row &* r &+ b), out = xb + row &* classRows
                        for i in 0..<classRows { out[i] = source[i &* k] }
                    }
                }
                Gemm.single(xb, lda: transposeX ? m : classRows, transposeA: transposeX, db, ldb: u,
                            transposeB: false, into: partials + offsets[b], ldc: u, m: m, n: u, k: classRows,
                            beta: 0)
            }
            Parallel.forEachRange(of: m, work: max(1, support.count)) { rows in
                for row in rows {
                    let out = c + row &* width
                    out.update(repeating: 0, count: width)
                    for b in 0..<classes {
                        let columns = support.columns(of: b), u = columns.count
                        let partial = partials + (offsets[b] &+ row &* u)
                        var j = 0
                        for p in columns { out[Int(p)] += partial[j]; j &+= 1 }
                    }
                }
            }
        }
    }

    /// out[i, j] = d[(firstRow + i·rowStep)·width + columns[j]]: the listed columns of every
    /// rowStep-th row, packed [rows, columns.count].
    private static func gatherColumns(_ d: UnsafePointer<Float>, firstRow: Int, rowStep: Int, rows: Int,
                                      width: Int, _ columns: ArraySlice<Int32>,
                                      into out: UnsafeMutablePointer<Float>) {
        let u = columns.count
        columns.withUnsafeBufferPointer { columns in
            for i in 0..<rows {
                let source = d + (firstRow &+ i &* rowStep) &* width, target = out + i &* u
                for j in 0..<u { target[j] = source[Int(columns[j])] }
            }
        }
    }
}
