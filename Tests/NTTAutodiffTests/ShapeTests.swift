import Testing
@testable import NTTAutodiff

struct ShapeTests {
    let x = GradientCheck.random([2, 3, 4], seed: 5)

    @Test func permuteMatchesLoop() {
        let y = x.permuted([2, 0, 1])
        var expected = [Float](repeating: 0, count: 24)
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            expected[(k * 2 + i) * 3 + j] = x.scalars[(i * 3 + j) * 4 + k]
        } } }
        GradientCheck.assertClose(y, expected, shape: [4, 2, 3], "permute")
        let m = GradientCheck.random([37, 45], seed: 6)
        var t = [Float](repeating: 0, count: 37 * 45)
        for i in 0..<37 { for j in 0..<45 { t[j * 37 + i] = m.scalars[i * 45 + j] } }
        GradientCheck.assertClose(m.transposed, t, shape: [45, 37], "blocked transpose")
    }

    @Test func sumsAndBroadcastMatchLoops() {
        var s1 = [Float](repeating: 0, count: 8)
        var s02 = [Float](repeating: 0, count: 3)
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            s1[i * 4 + k] += x.scalars[(i * 3 + j) * 4 + k]
            s02[j] += x.scalars[(i * 3 + j) * 4 + k]
        } } }
        GradientCheck.assertClose(x.sum(alongAxes: [1]), s1, shape: [2, 4], "sum axis 1")
        GradientCheck.assertClose(x.sum(alongAxes: [0, 2], keepingDimensions: true), s02, shape: [1, 3, 1],
                                  "sum axes 0,2")
        GradientCheck.assertClose(x.sum(alongAxes: [-1]).reshaped([6]),
                                  (0..<6).map { r in (0..<4).reduce(Float(0)) { $0 + x.scalars[r * 4 + $1] } },
                                  shape: [6], "sum last")
        #expect(abs(x.mean().scalar - x.scalars.reduce(0, +) / 24) < 1e-6)
        let small = GradientCheck.random([3, 1], seed: 7)
        let big = small.broadcast(to: [2, 3, 4])
        GradientCheck.assertClose(big, (0..<24).map { small.scalars[($0 / 4) % 3] }, shape: [2, 3, 4], "broadcast")
        #expect(Tensor.zeros([0, 3]).sum().scalar == 0)
    }

    @Test func sliceConcatenate() {
        let a = GradientCheck.random([2, 3], seed: 8), b = GradientCheck.random([3, 3], seed: 9)
        let c = Tensor.concatenate(rows: [a, b])
        GradientCheck.assertClose(c, a.scalars + b.scalars, shape: [5, 3], "concatenate")
        GradientCheck.assertClose(c.slice(rows: 1..<4), Array(c.scalars[3..<12]), shape: [3, 3], "slice")
        GradientCheck.assertClose(a.paddedRows(before: 1, after: 2),
                                  [0, 0, 0] + a.scalars + [Float](repeating: 0, count: 6), shape: [5, 3], "pad")
    }

    @Test func gradients() {
        let w = GradientCheck.random([4, 2, 3], seed: 10)
        GradientCheck.check([x], "permute") { v in (v[0].permuted([2, 0, 1]).squared() * w).sum() }
        GradientCheck.check([x], "reshape") { v in (v[0].reshaped([4, 2, 3]).squared() * w).sum() }
        let w1 = GradientCheck.random([2, 4], seed: 11)
        GradientCheck.check([x], "sum axis") { v in (v[0].sum(alongAxes: [1]).squared() * w1).sum() }
        GradientCheck.check([x], "mean") { v in v[0].mean(alongAxes: [0, 2]).squared().sum() }
        let small = GradientCheck.random([3, 1], seed: 12)
        let w2 = GradientCheck.random([2, 3, 4], seed: 13)
        GradientCheck.check([small], "broadcast") { v in (v[0].broadcast(to: [2, 3, 4]).squared() * w2).sum() }
        GradientCheck.check([x], "sum(toShape:)") { v in (v[0].sum(toShape: [3, 1]).squared() * small).sum() }
        let a = GradientCheck.random([2, 3], seed: 14), b = GradientCheck.random([3, 3], seed: 15)
        let w3 = GradientCheck.random([5, 3], seed: 16), w4 = GradientCheck.random([2, 3], seed: 17)
        GradientCheck.check([a, b], "concatenate") { v in
            (Tensor.concatenate(rows: [v[0], v[1]]).squared() * w3).sum()
        }
        GradientCheck.check([b], "slice") { v in (v[0].slice(rows: 1..<3).squared() * w4).sum() }
        GradientCheck.check([a], "paddedRows") { v in (v[0].paddedRows(before: 2, after: 1).squared() * w3).sum() }
    }

    @Test func shapeRulesExplainErrors() throws {
        #expect(try ShapeRules.broadcast([3, 1], [4]) == [3, 4])
        #expect(throws: ShapeError("shapes [3, 2] and [4] cannot be broadcast together (axis sizes 2 and 4)")) {
            try ShapeRules.broadcast([3, 2], [4])
        }
        #expect(try ShapeRules.axis(-1, rank: 3) == 2)
        #expect(throws: ShapeError("axis 3 is out of range for a tensor of rank 3")) { try ShapeRules.axis(3, rank: 3) }
        #expect(throws: ShapeError.self) { try ShapeRules.matmul([2, 3], transposeA: false, [4, 5], transposeB: false) }
        #expect(throws: ShapeError.self) {
            try ShapeRules.matmul([2, 3, 1], transposeA: false, [3, 5], transposeB: false)
        }
        #expect(try ShapeRules.matmul([3, 2], transposeA: true, [5, 3], transposeB: true) == [2, 5])
    }

    /// A sum over a middle axis (a conv layer's bias part: Σₛ Δ over [n·k, S, cout]) is cut into
    /// ranges of the kept first axis: the same bits as a plain loop, with one thread or two.
    @Test func middleAxisSumIsExactAndThreadIndependent() {
        let x = GradientCheck.random([40, 300, 7], seed: 8)
        var expected = [Float](repeating: 0, count: 40 * 7)
        for r in 0..<40 {
            for s in 0..<300 { for c in 0..<7 { expected[r * 7 + c] += x.scalars[(r * 300 + s) * 7 + c] } }
        }
        let sums = { x.sum(alongAxes: [1]).scalars.map(\.bitPattern) }
        #expect(Threads.withBudget(2, sums) == expected.map(\.bitPattern))
        #expect(Threads.withBudget(1, sums) == expected.map(\.bitPattern))
    }
}
