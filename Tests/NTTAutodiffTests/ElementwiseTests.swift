import Testing
import Glibc
@testable import NTTAutodiff

struct ElementwiseTests {
    let a = GradientCheck.random([3, 4], seed: 1)
    let b = GradientCheck.random([3, 4], seed: 2)
    let row = GradientCheck.random([4], seed: 3)
    let positive = GradientCheck.random([3, 4], seed: 4, scale: 0.3, offset: 1.5)

    @Test func forwardMatchesLoops() {
        GradientCheck.assertClose(a + b, zip(a.scalars, b.scalars).map(+), shape: [3, 4], "add")
        GradientCheck.assertClose(a - b, zip(a.scalars, b.scalars).map(-), shape: [3, 4], "sub")
        GradientCheck.assertClose(a * b, zip(a.scalars, b.scalars).map(*), shape: [3, 4], "mul")
        GradientCheck.assertClose(a / positive, zip(a.scalars, positive.scalars).map(/), shape: [3, 4], "div")
        GradientCheck.assertClose(a + row, a.scalars.enumerated().map { $1 + row.scalars[$0 % 4] }, shape: [3, 4],
                                  "broadcast add")
        GradientCheck.assertClose(row * a, a.scalars.enumerated().map { $1 * row.scalars[$0 % 4] }, shape: [3, 4],
                                  "broadcast mul")
        GradientCheck.assertClose(-a, a.scalars.map { -$0 }, shape: [3, 4], "neg")
        GradientCheck.assertClose(a * 2.5 + 1, a.scalars.map { $0 * 2.5 + 1 }, shape: [3, 4], "scalar")
        GradientCheck.assertClose(a.exp(), a.scalars.map { Float(Glibc.exp(Double($0))) }, shape: [3, 4], "exp")
        GradientCheck.assertClose(positive.log(), positive.scalars.map { Float(Glibc.log(Double($0))) }, shape: [3, 4],
                                  "log")
        GradientCheck.assertClose(a.relu(), a.scalars.map { max($0, 0) }, shape: [3, 4], "relu")
        #expect(Tensor(shape: [2], scalars: [0, -0.0]).relu().scalars == [0, 0])
    }

    @Test func gradients() {
        let w = GradientCheck.weights(like: a)
        GradientCheck.check([a, b], "add") { x in ((x[0] + x[1]).squared() * w).sum() }
        GradientCheck.check([a, b], "sub") { x in ((x[0] - x[1]).squared() * w).sum() }
        GradientCheck.check([a, b], "mul") { x in (x[0] * x[1] * w).sum() }
        GradientCheck.check([a, positive], "div") { x in (x[0] / x[1] * w).sum() }
        GradientCheck.check([a, row], "broadcast add") { x in ((x[0] + x[1]).squared() * w).sum() }
        GradientCheck.check([row, a], "broadcast mul") { x in (x[0] * x[1] * x[1] * w).sum() }
        GradientCheck.check([a], "neg") { x in ((-x[0]).squared() * w).sum() }
        GradientCheck.check([a], "scalar ops") { x in ((x[0] * 2.5 + 1).squared() * w).sum() }
        GradientCheck.check([a], "exp") { x in (x[0].exp() * w).sum() }
        GradientCheck.check([positive], "log") { x in (x[0].log() * w).sum() }
        // ReLU: inputs kept ≥ 0.1 away from the kink so differences never straddle it.
        let away = Tensor(shape: a.shape, scalars: a.scalars.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 })
        GradientCheck.check([away], "relu") { x in (x[0].relu().squared() * w).sum() }
        GradientCheck.assertClose(a.keepingWhere(positive: b), zip(a.scalars, b.scalars).map { $1 > 0 ? $0 : 0 },
                                  shape: a.shape, "keepingWhere")
        GradientCheck.check([a], "keepingWhere") { x in (x[0].keepingWhere(positive: b).squared() * w).sum() }
    }

    @Test func reluDerivativeAtZeroIsZero() {
        let g = gradient(at: Tensor(shape: [3], scalars: [-1, 0, 2])) { $0.relu().sum() }
        #expect(g.scalars == [0, 0, 1])
    }

    /// One-pass Σx²: the same bits as `squared().sum()` in value and gradient (for lengths with
    /// and without a scalar tail), and correct derivatives of first and second order.
    @Test(arguments: [1, 7, 8, 29, 1000])
    func sumOfSquaresIsSquaredThenSummed(count: Int) {
        let x = GradientCheck.random([count], seed: 21)
        #expect(x.sumOfSquares().shape == [])
        #expect(x.sumOfSquares().scalar.bitPattern == x.squared().sum().scalar.bitPattern)
        let fused = gradient(at: x) { $0.sumOfSquares() * 3 }, plain = gradient(at: x) { $0.squared().sum() * 3 }
        #expect(fused.scalars.map(\.bitPattern) == plain.scalars.map(\.bitPattern))
        let w = GradientCheck.random([count], seed: 22)
        GradientCheck.check([x], "sumOfSquares") { v in (v[0] * w).sumOfSquares() * v[0].sum() }
    }
}
