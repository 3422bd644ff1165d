import Testing
@testable import NTTLayers

struct DropoutLayerTests {
    @Test func identityAtEvaluationScaledMaskInTraining() throws {
        let rule = DropoutLayer(rate: 0.25)
        let x = LayerRuleChecks.random([4, 50], seed: 1)
        #expect(try rule.outputShape(forInput: [50]) == [50])
        #expect(rule.apply(x, parameters: nil, position: 2, dropoutSeed: nil).scalars == x.scalars)
        let y = rule.apply(x, parameters: nil, position: 2, dropoutSeed: 7)
        let kept = zip(y.scalars, x.scalars).filter { $0.0 != 0 }
        #expect(kept.allSatisfy { $0.0 == $0.1 * Float(1 / 0.75) })
        #expect(kept.count > 100 && kept.count < 200)
        // The mask's stream is named after the layer's position in the spec.
        #expect(rule.apply(x, parameters: nil, position: 3, dropoutSeed: 7).scalars != y.scalars)
        LayerRuleChecks.checkPush(rule, input: x, parameters: nil, outputs: 2)
    }
}
