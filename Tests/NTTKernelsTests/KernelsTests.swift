import Testing
@testable import NTTKernels

/// Kernels not already covered through the ops' reference-loop tests in NTTAutodiffTests.
struct SeededRandomTests {
    @Test func deterministicAndStreamsIndependent() {
        var a = SeededRandom(seed: 7, stream: "x"), b = SeededRandom(seed: 7, stream: "x"),
            c = SeededRandom(seed: 7, stream: "y")
        let xa = (0..<5).map { _ in a.next() }, xb = (0..<5).map { _ in b.next() }, xc = (0..<5).map { _ in c.next() }
        #expect(xa == xb)
        #expect(xa != xc)
    }

    @Test func distributions() {
        var r = SeededRandom(seed: 1)
        let n = 20000
        let normal = (0..<n).map { _ in r.nextNormal() }
        let mean = normal.reduce(0, +) / Double(n)
        let variance = normal.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        let truncated = (0..<n).map { _ in r.nextTruncatedNormal() }
        #expect(truncated.allSatisfy { abs($0) <= 2 })
        // Std of a standard normal truncated at ±2 is 0.8796.
        let tv = truncated.map { $0 * $0 }.reduce(0, +) / Double(n)
        #expect(abs(tv.squareRoot() - 0.87962566103423978) < 0.02)
        let uniform = (0..<n).map { _ in r.nextUniform() }
        #expect(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(r.permutation(50).sorted() == Array(0..<50))
    }
}

struct StridedTests {
    @Test func coalescesAndReduces() {
        // [2, 1, 3] broadcast to [2, 4, 3] and reduced back sums 4 copies.
        let x: [Float] = [1, 2, 3, 4, 5, 6]
        var big = [Float](repeating: 0, count: 24), back = [Float](repeating: 0, count: 6)
        x.withUnsafeBufferPointer { src in big.withUnsafeMutableBufferPointer {
            Strided.broadcast(src.baseAddress!, from: [2, 1, 3], to: [2, 4, 3], into: $0.baseAddress!)
        } }
        #expect(Array(big[0..<6]) == [1, 2, 3, 1, 2, 3] && Array(big[12..<15]) == [4, 5, 6])
        big.withUnsafeBufferPointer { src in back.withUnsafeMutableBufferPointer {
            Strided.reduceSum(src.baseAddress!, from: [2, 4, 3], to: [2, 1, 3], into: $0.baseAddress!)
        } }
        #expect(back == x.map { $0 * 4 })
    }
}

struct WindowGeometryTests {
    @Test func sameAndValidSizes() {
        let v = WindowGeometry(batch: 1, height: 28, width: 28, channels: 1, windowHeight: 5, windowWidth: 5,
                               strideHeight: 1, strideWidth: 1, samePadding: false)
        #expect((v.outHeight, v.outWidth, v.padTop) == (24, 24, 0))
        let s = WindowGeometry(batch: 1, height: 5, width: 6, channels: 1, windowHeight: 2, windowWidth: 3,
                               strideHeight: 2, strideWidth: 2, samePadding: true)
        // XLA: out = ceil(in / stride); total padding (out−1)·stride + window − in, the odd one at the end.
        #expect((s.outHeight, s.outWidth, s.padTop, s.padLeft) == (3, 3, 0, 0))
        let t = WindowGeometry(batch: 1, height: 5, width: 5, channels: 1, windowHeight: 3, windowWidth: 3,
                               strideHeight: 1, strideWidth: 1, samePadding: true)
        #expect((t.outHeight, t.padTop, t.padLeft) == (5, 1, 1))
        #expect(t.withBatch(4).patchCount == 4 * 25)
    }
}

/// The vectorised kernels against plain scalar loops.
struct VectorKernelTests {
    /// Max-pool argmax and maxima with many ties and some NaNs, for channel counts on every path:
    /// scalar only (3), eight at a time (8, 16), eight plus an overlapping last eight (11, 20).
    @Test(arguments: [3, 8, 11, 16, 20])
    func maxIndicesMatchesTheScalarDefinition(channels: Int) {
        var r = SeededRandom(seed: 5)
        for same in [false, true] {
            let g = WindowGeometry(batch: 2, height: 5, width: 6, channels: channels, windowHeight: 2, windowWidth: 3,
                                   strideHeight: 2, strideWidth: 2, samePadding: same)
            let x: [Float] = (0..<g.inputCount).map { _ in
                r.nextInt(below: 40) == 0 ? .nan : Float(r.nextInt(below: 3))
            }
            var got = [Int32](repeating: -1, count: g.batch * g.outHeight * g.outWidth * g.channels)
            var values = [Float](repeating: 0, count: got.count)
            x.withUnsafeBufferPointer { p in got.withUnsafeMutableBufferPointer { i in
                values.withUnsafeMutableBufferPointer { v in
                    Pooling.maxIndices(p.baseAddress!, g, into: i.baseAddress!, values: v.baseAddress!)
                }
            } }
            #expect(zip(values, got).allSatisfy { v, i in v.bitPattern == x[Int(i)].bitPattern },
                    "values are x at the indices")
            var o = 0
            for b in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for ch in 0..<g.channels {
                var best = -Float.infinity, bestIndex = -1
                for dy in 0..<g.windowHeight { for dx in 0..<g.windowWidth {
                    let iy = oy * g.strideHeight + dy - g.padTop, ix = ox * g.strideWidth + dx - g.padLeft
                    guard iy >= 0 && iy < g.height && ix >= 0 && ix < g.width else { continue }
                    let idx = ((b * g.height + iy) * g.width + ix) * g.channels + ch
                    if bestIndex < 0 || x[idx] > best || (x[idx].isNaN && !best.isNaN) {
                        best = x[idx]; bestIndex = idx
                    }
                } }
                #expect(Int(got[o]) == bestIndex, "output \(o)")
                o += 1
            } } } }
        }
    }

    @Test func sumMatchesAScalarSum() {
        var r = SeededRandom(seed: 9)
        for n in [0, 1, 7, 8, 9, 100, 1001] {
            let x = (0..<n).map { _ in Float(r.nextNormal()) }
            let reference = x.reduce(0.0) { $0 + Double($1) }
            let got = x.withUnsafeBufferPointer {
                Strided.sum($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: n)
            }
            #expect(abs(Double(got) - reference) < 1e-4 * max(1, Double(n).squareRoot()), "n = \(n)")
        }
    }

    @Test func allEqualFindsADifferentValueAnywhere() {
        // Every position of vectors around the 64-element block size, including the scalar tail.
        for n in [1, 63, 64, 65, 130] {
            let ones = [Float](repeating: 1, count: n)
            #expect(ones.withUnsafeBufferPointer { Strided.allEqual($0.baseAddress!, count: n, to: 1) })
            for position in 0..<n {
                var x = ones
                x[position] = 0
                #expect(!x.withUnsafeBufferPointer { Strided.allEqual($0.baseAddress!, count: n, to: 1) },
                        "n = \(n), position \(position)")
            }
        }
        #expect([Float.nan].withUnsafeBufferPointer { !Strided.allEqual($0.baseAddress!, count: 1, to: 1) })
    }
}
