import Testing
import NTTKernels
@testable import NTTLayers

struct MaxPoolLayerTests {
    @Test func shapesAndErrors() throws {
        let rule = MaxPoolLayer(window: Window(2), stride: Window(2), padding: .valid)
        #expect(try rule.outputShape(forInput: [5, 4, 3]) == [2, 2, 3])
        #expect(throws: ModelSpecError("a 2 window does not fit a 1x4 input")) {
            try rule.outputShape(forInput: [1, 4, 3])
        }
        #expect(rule.commutesWithReLU)
    }

    /// Ties (a constant channel, as a fully pruned conv channel gives) go to the first maximum.
    @Test(arguments: [Padding.valid, .same])
    func pushScattersThroughTheArgmax(padding: Padding) {
        let rule = MaxPoolLayer(window: Window(2, 3), stride: Window(2, 1), padding: padding)
        var values = LayerRuleChecks.random([2, 5, 6, 2], seed: 1).scalars
        for i in stride(from: 1, to: values.count, by: 2) { values[i] = 0.25 }
        let x = Tensor(shape: [2, 5, 6, 2], scalars: values)
        LayerRuleChecks.checkPush(rule, input: x, parameters: nil, outputs: 3)
    }
}
