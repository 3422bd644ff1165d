/// Where the rows of a matrix D [rows, columns] can be nonzero, by class: row r belongs to class
/// r mod `groups`, and class g's support is the set of columns where one of its rows holds a
/// value other than zero.
///
/// The NTK's cotangents Δ have their rows ordered (sample, output), and a sparse network's Δ at a
/// dense layer is zero outside a few columns for each output, the same for every sample: the
/// output's weights upstream are pruned (LeNet-300-100 at d = 0.03: output a reaches ~3 of the
/// 100 units below it and ~27 of the 300 below those). Products with such a D can skip the rest
/// (`GroupSparseProduct`). The support is read from the values, so it is exact whatever made the
/// zeros (masks, inactive ReLUs).
package struct GroupSupport: Sendable, Equatable {
    package let groups: Int
    package let columns: Int
    /// Class g's columns: indices[starts[g]..<starts[g + 1]], increasing.
    let starts: [Int32]
    let indices: [Int32]

    /// The number of (class, column) pairs in the support.
    package var count: Int { indices.count }

    /// The support of D [rows, columns] (row-major) with rows in `groups` classes, or nil when it
    /// has more than `maximumCount` (class, column) pairs. A dense D (a teacher's Δ) is turned
    /// down after reading one row per class: a row's nonzero columns belong to its class's support.
    package init?(scanning d: UnsafePointer<Float>, rows: Int, columns: Int, groups: Int,
                  maximumCount: Int = .max) {
        precondition(groups > 0 && rows >= 0 && columns >= 0 && groups * columns < Int(Int32.max),
                     "GroupSupport: \(groups) classes of \(columns) columns do not fit 32-bit positions")
        var firstRows = 0
        for r in 0..<min(rows, groups) {
            let row = d + r &* columns
            for p in 0..<columns { firstRows &+= row[p] != 0 ? 1 : 0 }
        }
        if firstRows > maximumCount { return nil }
        self.groups = groups
        self.columns = columns
        // flags[g·columns + p] ≠ 0 when a row of class g is nonzero at column p.
        let flags = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, groups &* columns))
        defer { flags.deallocate() }
        Parallel.forEachRange(of: groups, work: max(1, rows / groups) &* columns) { classes in
            for g in classes {
                let seen = flags + g &* columns
                seen.update(repeating: 0, count: columns)
                var r = g
                while r < rows {
                    let row = d + r &* columns
                    for p in 0..<columns { seen[p] |= row[p] != 0 ? 1 : 0 }
                    r &+= groups
                }
            }
        }
        var starts: [Int32] = [0], indices: [Int32] = []
        starts.reserveCapacity(groups + 1)
        for g in 0..<groups {
            let seen = flags + g &* columns
            for p in 0..<columns where seen[p] != 0 { indices.append(Int32(p)) }
            starts.append(Int32(indices.count))
        }
        if indices.count > maximumCount { return nil }
        self.starts = starts
        self.indices = indices
    }

    /// Class g's columns.
    func columns(of g: Int) -> ArraySlice<Int32> { indices[Int(starts[g])..<Int(starts[g &+ 1])] }
}
