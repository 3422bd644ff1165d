import Testing
import NTTKernels
@testable import NTTLayers

struct ConvLayerTests {
    @Test func shapesAndErrors() throws {
        let rule = ConvLayer(filters: 8, kernel: Window(3, 2), stride: Window(2), padding: .same)
        #expect(try rule.outputShape(forInput: [7, 5, 2]) == [4, 3, 8])
        #expect(rule.parameterShapes(forInput: [7, 5, 2])! == ([3, 2, 2, 8], [8]))
        let valid = ConvLayer(filters: 2, kernel: Window(5), stride: Window(1), padding: .valid)
        #expect(throws: ModelSpecError("a 5 window does not fit a 4x6 input")) {
            try valid.outputShape(forInput: [4, 6, 1])
        }
        #expect(throws: ModelSpecError("needs an image input [H, W, C] but gets shape [10]")) {
            try valid.outputShape(forInput: [10])
        }
    }

    /// The chunked `convolution` of untraced passes against the patch-matrix form of traced ones.
    @Test func applyMatchesTracedApply() {
        let rule = ConvLayer(filters: 3, kernel: Window(3), stride: Window(1), padding: .same)
        let x = LayerRuleChecks.random([2, 5, 4, 2], seed: 1)
        let p = rule.initialize(forInput: [5, 4, 2], seed: 0, index: 0)!
        let fast = rule.apply(x, parameters: p, position: 0, dropoutSeed: nil)
        let traced = rule.tracedApply(x, parameters: p).output
        #expect(fast.shape == traced.shape)
        #expect(LayerRuleChecks.relativeError(fast.scalars, traced.scalars) < 1e-6)
    }

    /// Small Jacobians (batched GEMM), large ones (K·cout > 4096: `sampleJacobians`), and the patch form.
    @Test(arguments: [(2, 3, 2), (40, 5, 4)])
    func pushAndKernelTerm(filters: Int, window: Int, channels: Int) {
        let rule = ConvLayer(filters: filters, kernel: Window(window), stride: Window(1), padding: .valid)
        let shape = [window + 1, window + 2, channels]
        let x1 = LayerRuleChecks.random([2] + shape, seed: 1), x2 = LayerRuleChecks.random([3] + shape, seed: 2)
        let p = rule.initialize(forInput: shape, seed: 0, index: 0)!
        LayerRuleChecks.checkPush(rule, input: x1, parameters: p, outputs: 2)
        let mask = LayerRuleChecks.random(p.weight.shape, seed: 4).positiveMask()
        for contraction in ConvContraction.allCases {
            LayerRuleChecks.checkKernelTerm(rule, x1, x2, parameters: p, outputs: 2, mask: nil,
                                            contraction: contraction)
        }
        LayerRuleChecks.checkKernelTerm(rule, x1, x2, parameters: p, outputs: 2, mask: mask, contraction: .automatic)
    }
}
