import Foundation
import Testing
@testable import NeuralTangentTransfer

/// The fused optimiser kernels against the textbook formulas, in Double, over several steps.
struct OptimizerTests {
    static let gradients: [[Double]] = [[0.5, -1, 2e-3, 0, 3, -0.25, 1e-6, 7, -2, 0.125, 4],
                                        [-0.5, 2, 0, 1e-4, -3, 0.75, -1e-6, 1, 2, -0.5, 0]]

    @Test func adamMatchesTheReferenceFormula() {
        // 11 entries: the 8-wide vector path and the scalar tail both run.
        var x = [Tensor(shape: [11], scalars: (0..<11).map { Float($0) * 0.1 - 0.3 })]
        var adam = Adam(learningRate: 1e-2)
        var rx = x[0].scalars.map(Double.init), m = [Double](repeating: 0, count: 11), v = m
        for step in 1...6 {
            let g = Self.gradients[step % 2]
            adam.update(&x, gradients: [Tensor(shape: [11], scalars: g.map(Float.init))])
            for i in 0..<11 {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let mHat = m[i] / (1 - pow(0.9, Double(step))), vHat = v[i] / (1 - pow(0.999, Double(step)))
                rx[i] -= 1e-2 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        for i in 0..<11 { #expect(abs(Double(x[0].scalars[i]) - rx[i]) < 1e-6, "entry \(i)") }
        #expect(adam.step == 6)
        // Zero gradients from zero moments leave a weight exactly where it is (pruned weights stay 0).
        var zero = [Tensor(shape: [9], scalars: [Float](repeating: 0, count: 9))]
        var fresh = Adam(learningRate: 1)
        for _ in 0..<3 {
            fresh.update(&zero, gradients: [Tensor(shape: [9], scalars: [Float](repeating: 0, count: 9))])
        }
        #expect(zero[0].scalars.allSatisfy { $0 == 0 })
    }

    /// With `frozen` masks, entries where the mask is 0 keep their value and both moments bit for
    /// bit; the others (and a tensor without a mask) follow plain Adam bit for bit.
    @Test func adamLeavesFrozenEntriesAndTheirMomentsUntouched() {
        let keep = Tensor(shape: [11], scalars: [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1])  // zeros in lanes and tail
        var frozen = [Tensor(shape: [11], scalars: (0..<11).map { Float($0) * 0.1 - 0.3 }),
                      Tensor(shape: [3], scalars: [1, 2, 3])]
        var plain = frozen
        var a = Adam(learningRate: 1e-2), b = Adam(learningRate: 1e-2)
        for step in 1...6 {
            let g = [Tensor(shape: [11], scalars: Self.gradients[step % 2].map(Float.init)),
                     Tensor(shape: [3], scalars: [0.5, -1, 2])]
            let before = (x: frozen[0].scalars, m: a.m.first, v: a.v.first)
            a.update(&frozen, gradients: g, frozen: step <= 2 ? nil : [keep, nil])  // moments first become non-zero
            b.update(&plain, gradients: g)
            for i in 0..<11 {
                if step > 2 && keep.scalars[i] == 0 {
                    #expect(frozen[0].scalars[i].bitPattern == before.x[i].bitPattern, "step \(step) entry \(i)")
                    #expect(a.m[0][i].bitPattern == before.m![i].bitPattern && a.m[0][i] != 0)
                    #expect(a.v[0][i].bitPattern == before.v![i].bitPattern)
                } else if step <= 2 {
                    #expect(frozen[0].scalars[i].bitPattern == plain[0].scalars[i].bitPattern)
                }
            }
            #expect(frozen[1].scalars.map(\.bitPattern) == plain[1].scalars.map(\.bitPattern))
        }
        // A kept entry whose history is that of plain Adam (it was never frozen) stays equal to it.
        for i in 0..<11 where keep.scalars[i] == 1 {
            #expect(frozen[0].scalars[i].bitPattern == plain[0].scalars[i].bitPattern, "entry \(i)")
            #expect(a.m[0][i].bitPattern == b.m[0][i].bitPattern && a.v[0][i].bitPattern == b.v[0][i].bitPattern)
        }
    }

    @Test func momentumSGDMatchesTheReferenceFormula() {
        var x = [Tensor(shape: [11], scalars: [Float](repeating: 1, count: 11))]
        var sgd = MomentumSGD(learningRate: 0.1, momentum: 0.9)
        var rx = [Double](repeating: 1, count: 11), u = [Double](repeating: 0, count: 11)
        for step in 0..<4 {
            let g = Self.gradients[step % 2]
            sgd.update(&x, gradients: [Tensor(shape: [11], scalars: g.map(Float.init))])
            for i in 0..<11 { u[i] = 0.9 * u[i] + g[i]; rx[i] -= 0.1 * u[i] }
        }
        for i in 0..<11 { #expect(abs(Double(x[0].scalars[i]) - rx[i]) < 1e-5, "entry \(i)") }
    }
}
