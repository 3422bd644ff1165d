import Testing
@testable import NTTLayers

struct FlattenLayerTests {
    @Test func shapeAndPush() throws {
        let rule = FlattenLayer()
        #expect(try rule.outputShape(forInput: [3, 2, 4]) == [24])
        let x = LayerRuleChecks.random([2, 3, 2, 4], seed: 1)
        LayerRuleChecks.checkPush(rule, input: x, parameters: nil, outputs: 3)
    }
}
