import Testing
@testable import NTTKernels

/// Class supports read from the values, and the products over them against plain loops (in
/// Double), for operands with empty classes and row counts that are not a multiple of the class
/// count; the same bits with one and two threads.
struct GroupSparseProductTests {
    /// D [rows, width]: row r (class r mod columns.count) nonzero only at columns[class].
    static func classSparse(rows: Int, width: Int, columns: [[Int]], seed: UInt64) -> [Float] {
        let values = SparseProductTests.random(rows * width, seed: seed)
        return (0..<(rows * width)).map { i in
            columns[(i / width) % columns.count].contains(i % width) ? values[i] : 0
        }
    }

    static func support(_ d: [Float], rows: Int, width: Int, groups: Int) -> GroupSupport {
        d.withUnsafeBufferPointer {
            GroupSupport(scanning: $0.baseAddress!, rows: rows, columns: width, groups: groups)!
        }
    }

    @Test func supportListsEachClassesNonzeroColumns() {
        // Three classes of five columns; rows 0, 3 are class 0, rows 1, 4 class 1, row 2 class 2.
        let d: [Float] = [0, 2, 0, 0, 0,
                          0, 0, 0, 0, 0,
                          0, 0, 0, 0, 0,
                          0, 0, 0, -1, 0,
                          .nan, 0, 0, 0, 3]
        let s = Self.support(d, rows: 5, width: 5, groups: 3)
        #expect(s.starts == [0, 2, 4, 4] && s.indices == [1, 3, 0, 4])
        #expect(s.count == 4)
        #expect(Array(s.columns(of: 1)) == [0, 4] && s.columns(of: 2).isEmpty)
        // A limit on the pairs: nil above it (after the whole scan, or after the first row of each
        // class when those rows alone exceed it).
        func limited(_ limit: Int) -> GroupSupport? {
            d.withUnsafeBufferPointer { GroupSupport(scanning: $0.baseAddress!, rows: 5, columns: 5, groups: 3,
                                                     maximumCount: limit) }
        }
        #expect(limited(4) == s && limited(3) == nil && limited(0) == nil)
    }

    static let columns = [[3, 7, 8], [], [0, 7], [1, 2, 4, 9], [5]]

    @Test(arguments: [(10, 7), (13, 11), (320, 320)])
    func productsMatchPlainLoops(rows1: Int, rows2: Int) {
        let (width, k) = (10, 5)
        let d1 = Self.classSparse(rows: rows1, width: width, columns: Self.columns, seed: 1)
        let d2 = Self.classSparse(rows: rows2, width: width, columns: Self.columns.reversed(), seed: 2)
        let s1 = Self.support(d1, rows: rows1, width: width, groups: k)
        let s2 = Self.support(d2, rows: rows2, width: width, groups: k)
        // G = D₁·D₂ᵀ
        var plain = [Float](repeating: 0, count: rows1 * rows2)
        for r in 0..<rows1 { for s in 0..<rows2 {
            plain[r * rows2 + s] = Float((0..<width).reduce(0.0) {
                $0 + Double(d1[r * width + $1] * d2[s * width + $1])
            })
        } }
        let (gram1, gram2) = ParallelTests.onOneAndTwoThreads { () -> [Float] in
            var g = [Float](repeating: .nan, count: rows1 * rows2)
            d1.withUnsafeBufferPointer { p1 in d2.withUnsafeBufferPointer { p2 in g.withUnsafeMutableBufferPointer {
                GroupSparseProduct.gram(p1.baseAddress!, rows: rows1, support: s1, p2.baseAddress!, rows: rows2,
                                        into: $0.baseAddress!)
            } } }
            return g
        }
        SparseProductTests.close(gram1, plain, "gram \(rows1)×\(rows2)")
        #expect(gram1 == gram2, "gram: one and two threads differ")
        // C = X·D₂ for X [m, rows2] (and the same X stored transposed), C [m, width].
        let m = rows1
        let x = SparseProductTests.random(m * rows2, seed: 3)
        let xt = (0..<(rows2 * m)).map { i in x[(i % m) * rows2 + i / m] }
        var product = [Float](repeating: 0, count: m * width)
        for i in 0..<m { for p in 0..<width {
            product[i * width + p] = Float((0..<rows2).reduce(0.0) {
                $0 + Double(x[i * rows2 + $1] * d2[$1 * width + p])
            })
        } }
        for (transposed, operand) in [(false, x), (true, xt)] {
            let (c1, c2) = ParallelTests.onOneAndTwoThreads { () -> [Float] in
                var c = [Float](repeating: .nan, count: m * width)
                operand.withUnsafeBufferPointer { px in d2.withUnsafeBufferPointer { pd in
                    c.withUnsafeMutableBufferPointer {
                        GroupSparseProduct.product(px.baseAddress!, transposeX: transposed, rows: m, pd.baseAddress!,
                                                   rows: rows2, support: s2, into: $0.baseAddress!)
                    }
                } }
                return c
            }
            SparseProductTests.close(c1, product, "product \(m)×\(rows2)×\(width), X transposed: \(transposed)")
            #expect(c1 == c2, "product: one and two threads differ")
        }
    }
}
