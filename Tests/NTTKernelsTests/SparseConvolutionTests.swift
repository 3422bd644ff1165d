import Testing
@testable import NTTKernels

/// The plane form of a sparse stride-1 convolution against the patch-matrix form it replaces
/// (im2col, `SparseProduct`, col2im), bit for bit for the forward pass and the input gradient,
/// up to rounding for the filter gradient: valid and same padding, windows wider than tall and
/// the reverse, output runs that fill 32 lanes, 8 lanes and neither, empty patterns and full
/// ones, with and without a bias, on one, two and three threads.
struct SparseConvolutionTests {
    struct Case: CustomStringConvertible {
        var batch: Int, height: Int, width: Int, channels: Int, window: (Int, Int), same: Bool
        var outChannels: Int, keep: Double

        var geometry: WindowGeometry {
            WindowGeometry(batch: batch, height: height, width: width, channels: channels,
                           windowHeight: window.0, windowWidth: window.1, strideHeight: 1, strideWidth: 1,
                           samePadding: same)
        }
        var description: String {
            "\(batch)×\(height)×\(width)×\(channels) window \(window) \(same ? "same" : "valid") "
                + "cout \(outChannels) keep \(keep)"
        }
    }

    static let cases = [
        Case(batch: 3, height: 9, width: 7, channels: 3, window: (3, 3), same: false, outChannels: 7, keep: 0.3),
        Case(batch: 2, height: 8, width: 11, channels: 2, window: (3, 5), same: true, outChannels: 5, keep: 0.5),
        Case(batch: 2, height: 12, width: 6, channels: 4, window: (4, 2), same: true, outChannels: 9, keep: 0.03),
        Case(batch: 1, height: 5, width: 5, channels: 1, window: (5, 5), same: false, outChannels: 3, keep: 1),
        Case(batch: 4, height: 14, width: 14, channels: 5, window: (3, 3), same: false, outChannels: 8, keep: 0.05),
        Case(batch: 2, height: 6, width: 6, channels: 2, window: (2, 2), same: true, outChannels: 4, keep: 0),
        Case(batch: 3, height: 30, width: 30, channels: 2, window: (3, 3), same: false, outChannels: 6, keep: 0.1),
    ]

    static func operands(_ c: Case, seed: UInt64) -> (SparsePattern, [Float], [Float], [Float], [Float]) {
        let g = c.geometry
        let m = SparseProductTests.mask(rows: g.patchSize, columns: c.outChannels, keep: c.keep, seed: seed)
        return (SparseProductTests.pattern(m, rows: g.patchSize, columns: c.outChannels),
                SparseProductTests.random(g.inputCount, seed: seed + 1),
                SparseProductTests.random(g.patchSize * c.outChannels, seed: seed + 2),
                SparseProductTests.random(c.outChannels, seed: seed + 3),
                SparseProductTests.random(g.patchCount * c.outChannels, seed: seed + 4))
    }

    /// The patch-matrix forms: y = P·(w ⊙ M) + b and dx = col2im(dy·(w ⊙ M)ᵀ).
    static func patchForms(_ g: WindowGeometry, cout: Int, _ pattern: SparsePattern, x: [Float], w: [Float],
                           bias: [Float]?, dy: [Float]) -> (y: [Float], dx: [Float]) {
        var p = [Float](repeating: .nan, count: g.patchCount * g.patchSize)
        Im2col.patches(x, g, into: &p)
        var y = [Float](repeating: .nan, count: g.patchCount * cout)
        if let bias {
            SparseProduct.multiply(p, rows: g.patchCount, w, pattern: pattern, bias: bias, into: &y)
        } else {
            SparseProduct.multiply(p, rows: g.patchCount, w, pattern: pattern, bias: nil, into: &y)
        }
        var gp = [Float](repeating: .nan, count: g.patchCount * g.patchSize)
        SparseProduct.multiplyTransposed(dy, rows: g.patchCount, w, pattern: pattern, into: &gp)
        var dx = [Float](repeating: .nan, count: g.inputCount)
        Im2col.accumulate(gp, g, into: &dx)
        return (y, dx)
    }

    static func planeForms(_ g: WindowGeometry, cout: Int, _ pattern: SparsePattern, x: [Float], w: [Float],
                           bias: [Float]?, dy: [Float]) -> (y: [Float], dx: [Float]) {
        var y = [Float](repeating: .nan, count: g.patchCount * cout)
        if let bias {
            SparseConvolution.forward(x, w, bias: bias, g, outChannels: cout, pattern: pattern, into: &y)
        } else {
            SparseConvolution.forward(x, w, bias: nil, g, outChannels: cout, pattern: pattern, into: &y)
        }
        var dx = [Float](repeating: .nan, count: g.inputCount)
        SparseConvolution.inputGradient(dy, w, g, outChannels: cout, pattern: pattern, into: &dx)
        return (y, dx)
    }

    /// Entries whose bits differ (all of them when the counts do).
    static func differing(_ a: [Float], _ b: [Float]) -> Int {
        a.count == b.count ? zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count : max(a.count, b.count)
    }

    @Test(arguments: 0..<7)
    func planesGiveThePatchMatrixFormsBits(caseIndex: Int) {
        let c = Self.cases[caseIndex], g = c.geometry
        #expect(SparseConvolution.applies(to: g))
        let (pattern, x, w, bias, dy) = Self.operands(c, seed: UInt64(10 * caseIndex))
        for b in [bias, nil] {
            let want = Self.patchForms(g, cout: c.outChannels, pattern, x: x, w: w, bias: b, dy: dy)
            for budget in [1, 2] {
                let got = Parallel.$threadBudget.withValue(budget) {
                    Self.planeForms(g, cout: c.outChannels, pattern, x: x, w: w, bias: b, dy: dy)
                }
                let label = "\(c), bias \(b != nil), \(budget) threads"
                #expect(Self.differing(got.y, want.y) == 0, "forward: \(label)")
                #expect(Self.differing(got.dx, want.dx) == 0, "input gradient: \(label)")
            }
        }
    }

    /// Against the definitions, so that the two forms cannot agree on a wrong answer.
    @Test func planesMatchTheConvolutionFormulas() {
        let c = Self.cases[1], g = c.geometry, cout = c.outChannels
        let (pattern, x, w, bias, dy) = Self.operands(c, seed: 99)
        let m = SparseProductTests.mask(rows: g.patchSize, columns: cout, keep: c.keep, seed: 99)
        let got = Self.planeForms(g, cout: cout, pattern, x: x, w: w, bias: bias, dy: dy)
        var y = [Float](repeating: 0, count: g.patchCount * cout), dx = [Float](repeating: 0, count: g.inputCount)
        for n in 0..<g.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let row = (n * g.outHeight + oy) * g.outWidth + ox
                    for co in 0..<cout { y[row * cout + co] = bias[co] }
                    for u in 0..<g.windowHeight {
                        for v in 0..<g.windowWidth {
                            let (iy, ix) = (oy + u - g.padTop, ox + v - g.padLeft)
                            guard iy >= 0 && iy < g.height && ix >= 0 && ix < g.width else { continue }
                            for ci in 0..<g.channels {
                                let pixel = ((n * g.height + iy) * g.width + ix) * g.channels + ci
                                let p = (u * g.windowWidth + v) * g.channels + ci
                                for co in 0..<cout {
                                    let weight = w[p * cout + co] * m[p * cout + co]
                                    y[row * cout + co] += weight * x[pixel]
                                    dx[pixel] += weight * dy[row * cout + co]
                                }
                            }
                        }
                    }
                }
            }
        }
        SparseProductTests.close(got.y, y, "forward")
        SparseProductTests.close(got.dx, dx, "input gradient")
    }

    /// The filter gradient against the patch-matrix form's dense product (Pᵀ·dy) ⊙ M: its sums run
    /// in another order, so up to rounding; zero at pruned entries; the same bits on 1, 2 and 3
    /// threads (11 images in 6 groups of 2).
    @Test(arguments: 0..<7)
    func filterGradientIsTheMaskedPatchProduct(caseIndex: Int) {
        var c = Self.cases[caseIndex]
        c.batch = 11
        let g = c.geometry, cout = c.outChannels
        let (pattern, x, _, _, dy) = Self.operands(c, seed: UInt64(200 + caseIndex))
        let m = SparseProductTests.mask(rows: g.patchSize, columns: cout, keep: c.keep, seed: UInt64(200 + caseIndex))
        var p = [Float](repeating: .nan, count: g.patchCount * g.patchSize)
        Im2col.patches(x, g, into: &p)
        let want = (0..<(g.patchSize * cout)).map { idx -> Float in
            let (column, co) = (idx / cout, idx % cout)
            return m[idx] * (0..<g.patchCount).reduce(0) { $0 + p[$1 * g.patchSize + column] * dy[$1 * cout + co] }
        }
        func run(_ budget: Int) -> [Float] {
            var dw = [Float](repeating: .nan, count: g.patchSize * cout)
            Parallel.$threadBudget.withValue(budget) {
                SparseConvolution.filterGradient(x, dy, g, outChannels: cout, pattern: pattern, into: &dw)
            }
            return dw
        }
        let one = run(1)
        SparseProductTests.close(one, want, "filter gradient: \(c)")
        #expect(zip(one, m).allSatisfy { $1 != 0 || $0.bitPattern == 0 }, "zero at pruned entries: \(c)")
        for budget in [2, 3] {
            #expect(Self.differing(run(budget), one) == 0, "filter gradient on \(budget) threads: \(c)")
        }
    }

    @Test func otherGeometriesKeepThePatchMatrix() {
        let strided = WindowGeometry(batch: 1, height: 6, width: 6, channels: 1, windowHeight: 2, windowWidth: 2,
                                     strideHeight: 2, strideWidth: 1, samePadding: false)
        let tooSmall = WindowGeometry(batch: 1, height: 2, width: 6, channels: 1, windowHeight: 3, windowWidth: 3,
                                      strideHeight: 1, strideWidth: 1, samePadding: false)
        #expect(!SparseConvolution.applies(to: strided))
        #expect(tooSmall.outHeight == 0 && !SparseConvolution.applies(to: tooSmall))
    }
}
