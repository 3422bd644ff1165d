import Testing
@testable import NTTLayers

struct ReLULayerTests {
    @Test func pushMasksEachSamplesRows() throws {
        let rule = ReLULayer()
        #expect(try rule.outputShape(forInput: [3, 2, 4]) == [3, 2, 4] && rule.parameterShapes(forInput: [3]) == nil)
        var x = LayerRuleChecks.random([3, 2, 2, 2], seed: 1)
        x = x * x.positiveMask()  // exact zeros: the derivative there is 0, as in JAX
        LayerRuleChecks.checkPush(rule, input: x, parameters: nil, outputs: 4)
        #expect(!rule.commutesWithReLU)
    }
}
