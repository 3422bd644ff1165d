import Testing
import Glibc
@testable import NTTAutodiff

struct LossTests {
    let logits = GradientCheck.random([3, 4], seed: 1, scale: 2)

    @Test func logSoftmaxMatchesLoop() {
        var expected: [Float] = []
        for r in 0..<3 {
            let row = logits.scalars[(r * 4)..<(r * 4 + 4)].map(Double.init)
            let lse = Glibc.log(row.map { Glibc.exp($0) }.reduce(0, +))
            expected += row.map { Float($0 - lse) }
        }
        GradientCheck.assertClose(logits.logSoftmax(), expected, shape: [3, 4], "logSoftmax")
        // Stable for large logits.
        let big = Tensor(shape: [1, 2], scalars: [1000, 0]).logSoftmax()
        #expect(big.scalars[0] == 0 && big.scalars[1] == -1000)
    }

    @Test func crossEntropyAndOneHot() {
        let labels = [2, 0, 3]
        let y = Tensor.oneHot(labels, classes: 4)
        #expect(y.scalars == [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
        let ls = logits.logSoftmax().scalars
        let expected = -labels.enumerated().reduce(Float(0)) { $0 + ls[$1.offset * 4 + $1.element] } / 3
        #expect(abs(Tensor.softmaxCrossEntropy(logits: logits, labels: y).scalar - expected) < 1e-5)
    }

    @Test func gradients() {
        let w = GradientCheck.random([3, 4], seed: 2)
        GradientCheck.check([logits], "logSoftmax") { v in (v[0].logSoftmax() * w).sum() }
        let y = Tensor.oneHot([2, 0, 3], classes: 4)
        GradientCheck.check([logits], "softmaxCrossEntropy") { v in
            Tensor.softmaxCrossEntropy(logits: v[0], labels: y)
        }
    }
}
