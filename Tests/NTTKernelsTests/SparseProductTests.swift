import Testing
@testable import NTTKernels

/// Products with a masked weight against the dense formulas, element by element, for row counts
/// that fill 32 lanes, 8 lanes and neither; and the same bits with one and two threads.
struct SparseProductTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var r = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float(r.nextNormal()) }
    }

    static func mask(rows: Int, columns: Int, keep: Double, seed: UInt64) -> [Float] {
        var r = SeededRandom(seed: seed, stream: "mask")
        return (0..<(rows * columns)).map { _ in r.nextUniform() < keep ? 1 : 0 }
    }

    static func pattern(_ m: [Float], rows: Int, columns: Int) -> SparsePattern {
        m.withUnsafeBufferPointer { SparsePattern(mask: $0.baseAddress!, rows: rows, columns: columns)! }
    }

    static func close(_ a: [Float], _ b: [Float], _ label: String) {
        #expect(a.count == b.count, "\(label)")
        let scale = max(1, b.map(abs).max() ?? 0)
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * scale }, "\(label)")
    }

    @Test func patternListsTheKeptEntries() {
        let m: [Float] = [0, 1, 0, 1,
                          1, 1, 0, 0,
                          0, 0, 0, 0]
        let p = Self.pattern(m, rows: 3, columns: 4)
        #expect(p.count == 4 && p.density == 4.0 / 12)
        #expect(p.rowStarts == [0, 2, 4, 4] && p.rowColumns == [1, 3, 0, 1])
        #expect(p.columnStarts == [0, 1, 3, 3, 4] && p.columnRows == [1, 0, 1, 0])
        let dense = [Float](repeating: 1, count: 40)
        #expect(dense.withUnsafeBufferPointer { SparsePattern(mask: $0.baseAddress!, rows: 4, columns: 10,
                                                              maximumDensity: 0.2) } == nil)
        let half: [Float] = [0, 0.5, 1, 0]
        #expect(half.withUnsafeBufferPointer { SparsePattern(mask: $0.baseAddress!, rows: 2, columns: 2) } == nil)
    }

    @Test(arguments: [1, 7, 8, 9, 32, 45, 70])
    func productsMatchTheDenseFormulas(n: Int) {
        let (k, columns) = (23, 17)
        let m = Self.mask(rows: k, columns: columns, keep: 0.2, seed: UInt64(n))
        let pattern = Self.pattern(m, rows: k, columns: columns)
        let w = Self.random(k * columns, seed: 1), bias = Self.random(columns, seed: 2)
        let a = Self.random(n * k, seed: 3), d = Self.random(n * columns, seed: 4)
        let masked = zip(w, m).map { $0 * $1 }

        var c = [Float](repeating: .nan, count: n * columns)
        SparseProduct.multiply(a, rows: n, w, pattern: pattern, bias: bias, into: &c)
        Self.close(c, (0..<(n * columns)).map { idx in
            let (i, q) = (idx / columns, idx % columns)
            return (0..<k).reduce(bias[q]) { $0 + a[i * k + $1] * masked[$1 * columns + q] }
        }, "multiply n=\(n)")

        var t = [Float](repeating: .nan, count: n * k)
        SparseProduct.multiplyTransposed(d, rows: n, w, pattern: pattern, into: &t)
        Self.close(t, (0..<(n * k)).map { idx in
            let (i, p) = (idx / k, idx % k)
            return (0..<columns).reduce(0) { $0 + d[i * columns + $1] * masked[p * columns + $1] }
        }, "multiplyTransposed n=\(n)")

        var s = [Float](repeating: .nan, count: k * columns)
        SparseProduct.maskedGram(a, d, rows: n, pattern: pattern, into: &s)
        Self.close(s, (0..<(k * columns)).map { idx in
            let (p, q) = (idx / columns, idx % columns)
            return m[idx] * (0..<n).reduce(0) { $0 + a[$1 * k + p] * d[$1 * columns + q] }
        }, "maskedGram n=\(n)")
        #expect(zip(s, m).allSatisfy { $1 != 0 || $0 == 0 }, "maskedGram is zero at pruned entries")
    }

    /// The documented order, bit for bit: each output is the bias (or 0) plus the kept entries'
    /// products added one at a time in increasing order, whichever lanes and stores carry it.
    @Test(arguments: [5, 8, 32, 45, 70])
    func productsSumTheKeptEntriesInIncreasingOrder(n: Int) {
        let (k, columns) = (19, 29)
        let m = Self.mask(rows: k, columns: columns, keep: 0.3, seed: UInt64(100 + n))
        let pattern = Self.pattern(m, rows: k, columns: columns)
        let w = Self.random(k * columns, seed: 11), bias = Self.random(columns, seed: 12)
        let a = Self.random(n * k, seed: 13), d = Self.random(n * columns, seed: 14)

        var c = [Float](repeating: .nan, count: n * columns)
        SparseProduct.multiply(a, rows: n, w, pattern: pattern, bias: bias, into: &c)
        #expect(c == (0..<(n * columns)).map { idx in
            let (i, q) = (idx / columns, idx % columns)
            var sum = bias[q]
            for p in 0..<k where m[p * columns + q] == 1 { sum += w[p * columns + q] * a[i * k + p] }
            return sum
        }, "multiply n=\(n)")

        var t = [Float](repeating: .nan, count: n * k)
        SparseProduct.multiplyTransposed(d, rows: n, w, pattern: pattern, into: &t)
        #expect(t == (0..<(n * k)).map { idx in
            let (i, p) = (idx / k, idx % k)
            var sum: Float = 0
            for q in 0..<columns where m[p * columns + q] == 1 { sum += w[p * columns + q] * d[i * columns + q] }
            return sum
        }, "multiplyTransposed n=\(n)")
    }

    /// Large enough to be shared out (several parts), the same bits on one and two threads.
    @Test func resultsDoNotDependOnTheThreadCount() {
        let (n, k, columns) = (320, 300, 100)
        let mask = Self.mask(rows: k, columns: columns, keep: 0.05, seed: 9)
        let pattern = Self.pattern(mask, rows: k, columns: columns)
        let w = Self.random(k * columns, seed: 5), a = Self.random(n * k, seed: 6)
        let d = Self.random(n * columns, seed: 7)
        func all() -> [[Float]] {
            var c = [Float](repeating: 0, count: n * columns), t = [Float](repeating: 0, count: n * k)
            var s = [Float](repeating: 0, count: k * columns)
            SparseProduct.multiply(a, rows: n, w, pattern: pattern, bias: nil, into: &c)
            SparseProduct.multiplyTransposed(d, rows: n, w, pattern: pattern, into: &t)
            SparseProduct.maskedGram(a, d, rows: n, pattern: pattern, into: &s)
            return [c, t, s]
        }
        let (one, two) = ParallelTests.onOneAndTwoThreads(all)
        #expect(one == two)
    }
}
