/// The kept entries of a 0/1 mask M [rows, columns], listed row by row and column by column, for
/// products that skip a weight's pruned entries (`SparseProduct`). A mask changes only every few
/// hundred steps, the weights it selects every step: the lists hold positions, never values.
package struct SparsePattern: Sendable, Equatable {
    package let rows: Int
    package let columns: Int
    /// Row p keeps the columns rowColumns[rowStarts[p]..<rowStarts[p + 1]], increasing.
    let rowStarts: [Int32]
    let rowColumns: [Int32]
    /// Column q keeps the rows columnRows[columnStarts[q]..<columnStarts[q + 1]], increasing.
    let columnStarts: [Int32]
    let columnRows: [Int32]

    /// The lists of `mask` [rows, columns], or nil when it keeps more than `maximumDensity` of its
    /// entries (the scan stops there) or holds a value other than 0 and 1.
    package init?(mask: UnsafePointer<Float>, rows: Int, columns: Int, maximumDensity: Double = 1) {
        precondition(rows >= 0 && columns >= 0 && rows * columns < Int(Int32.max),
                     "SparsePattern: a [\(rows), \(columns)] mask does not fit 32-bit positions")
        let limit = Int(maximumDensity * Double(rows * columns))
        var starts: [Int32] = [0], kept: [Int32] = []
        starts.reserveCapacity(rows + 1)
        typealias V = SIMD8<Float>
        for p in 0..<rows {
            let row = mask + p &* columns
            var q = 0
            // Eight entries at a time: at low density most blocks are all zero and cost one test.
            while q &+ 8 <= columns {
                let v = UnsafeRawPointer(row + q).loadUnaligned(as: V.self)
                if any(v .!= 0) {
                    guard all((v .== 0) .| (v .== 1)) else { return nil }
                    for lane in 0..<8 where v[lane] != 0 { kept.append(Int32(q &+ lane)) }
                }
                q &+= 8
            }
            while q < columns {
                if row[q] != 0 {
                    guard row[q] == 1 else { return nil }
                    kept.append(Int32(q))
                }
                q &+= 1
            }
            if kept.count > limit { return nil }
            starts.append(Int32(kept.count))
        }
        // Column lists by a counting sort of the row lists (rows stay increasing in each column).
        var columnStarts = [Int32](repeating: 0, count: columns + 1)
        for q in kept { columnStarts[Int(q) + 1] += 1 }
        for q in 0..<columns { columnStarts[q + 1] += columnStarts[q] }
        var next = columnStarts
        var columnRows = [Int32](repeating: 0, count: kept.count)
        for p in 0..<rows {
            for e in Int(starts[p])..<Int(starts[p + 1]) {
                let q = Int(kept[e])
                columnRows[Int(next[q])] = Int32(p)
                next[q] += 1
            }
        }
        self.rows = rows
        self.columns = columns
        rowStarts = starts
        rowColumns = kept
        self.columnStarts = columnStarts
        self.columnRows = columnRows
    }

    /// The number of kept entries.
    package var count: Int { rowColumns.count }

    /// Kept entries over all entries.
    package var density: Double { rows * columns == 0 ? 0 : Double(count) / Double(rows * columns) }
}
