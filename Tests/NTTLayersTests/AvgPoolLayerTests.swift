import Testing
import NTTKernels
@testable import NTTLayers

struct AvgPoolLayerTests {
    @Test(arguments: [Padding.valid, .same])
    func shapeAndPush(padding: Padding) throws {
        let rule = AvgPoolLayer(window: Window(3), stride: Window(2), padding: padding)
        #expect(try rule.outputShape(forInput: [5, 6, 2]) == (padding == .valid ? [2, 2, 2] : [3, 3, 2]))
        let x = LayerRuleChecks.random([2, 5, 6, 2], seed: 1)
        LayerRuleChecks.checkPush(rule, input: x, parameters: nil, outputs: 3)
    }
}
