import Testing
import NTTKernels
@testable import NTTLayers

struct DenseLayerTests {
    let rule = DenseLayer(units: 4)

    @Test func shapesAndInit() throws {
        #expect(try rule.outputShape(forInput: [6]) == [4])
        #expect(throws: ModelSpecError("needs a flat input but gets shape [3, 3, 1]; add 'flatten' before it")) {
            try rule.outputShape(forInput: [3, 3, 1])
        }
        #expect(rule.parameterShapes(forInput: [6])! == ([6, 4], [4]))
        let p = rule.initialize(forInput: [6], seed: 2, index: 1)!
        #expect(p.weight.shape == [6, 4] && p.bias.shape == [4])
        // Streams are named by the parametrised layer's index: the same as in a model.
        let model = try Model(spec: ModelSpec(parsing: "dense(5),relu,dense(4)"), inputShape: [3])
        let alone = rule.initialize(forInput: [5], seed: 2, index: 1)!
        #expect(model.initialize(seed: 2)[1].weight.scalars == alone.weight.scalars)
    }

    @Test func pushAndKernelTerm() {
        let x1 = LayerRuleChecks.random([3, 6], seed: 1), x2 = LayerRuleChecks.random([2, 6], seed: 2)
        let p = rule.initialize(forInput: [6], seed: 0, index: 0)!
        LayerRuleChecks.checkPush(rule, input: x1, parameters: p, outputs: 3)
        let mask = LayerRuleChecks.random([6, 4], seed: 4).positiveMask()
        for m in [nil, mask] {
            LayerRuleChecks.checkKernelTerm(rule, x1, x2, parameters: p, outputs: 3, mask: m, contraction: .automatic)
        }
    }

    /// With a sparse mask the layer takes the raw weight and skips pruned entries: output and
    /// cotangent push equal those of the effective weight w ⊙ m, and the push is the forward's vjp.
    @Test func sparseMaskMultipliesTheEffectiveWeight() {
        let x = LayerRuleChecks.random([5, 6], seed: 1), delta = LayerRuleChecks.random([15, 4], seed: 2)
        let p = rule.initialize(forInput: [6], seed: 0, index: 0)!
        let mask = LayerRuleChecks.random([6, 4], seed: 4).positiveMask()
        let pattern = mask.scalars.withUnsafeBufferPointer {
            SparsePattern(mask: $0.baseAddress!, rows: 6, columns: 4)!
        }
        let sparse = LayerParameters(weight: p.weight, bias: p.bias, sparseMask: pattern)
        let dense = LayerParameters(weight: p.weight * mask, bias: p.bias)
        let (y, trace) = rule.tracedApply(x, parameters: sparse)
        let (yDense, traceDense) = rule.tracedApply(x, parameters: dense)
        #expect(LayerRuleChecks.relativeError(y.scalars, yDense.scalars) < 1e-6)
        #expect(LayerRuleChecks.relativeError(trace.pushCotangents(delta, outputs: 3).scalars,
                                              traceDense.pushCotangents(delta, outputs: 3).scalars) < 1e-6)
        LayerRuleChecks.checkPush(rule, input: x, parameters: sparse, outputs: 3)
    }
}
