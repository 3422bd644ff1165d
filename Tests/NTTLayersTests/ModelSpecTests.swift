import Testing
import NTTKernels
@testable import NTTLayers

struct ModelSpecTests {
    @Test func parsesAndPrintsCanonically() throws {
        let spec = try ModelSpec(parsing: " conv(20, 5), relu, maxpool(2), conv(8,3x2,stride=2,padding=same), "
                                     + "avgpool(3,stride=1), flatten, dropout(0.5), dense(10) ")
        #expect(spec.layers[0] == .conv(filters: 20, kernel: Window(5), stride: Window(1), padding: .valid))
        #expect(spec.layers[3] == .conv(filters: 8, kernel: Window(3, 2), stride: Window(2), padding: .same))
        #expect(spec.layers[4] == .avgPool(window: Window(3), stride: Window(1), padding: .valid))
        #expect(spec.description == "conv(20,5),relu,maxpool(2),conv(8,3x2,stride=2,padding=same),"
                    + "avgpool(3,stride=1),flatten,dropout(0.5),dense(10)")
        #expect(try ModelSpec(parsing: spec.description) == spec)
    }

    @Test(arguments: [
        ("dense(10", "unclosed '(' in 'dense(10'"),
        ("dense(0)", "in 'dense(0)': units must be a positive integer, got '0'"),
        ("dense(10),,relu", "empty layer between commas (after 'dense(10)')"),
        ("conv(3,3,padding=full)", "in 'conv(3,3,padding=full)': padding must be 'valid' or 'same', got 'full'"),
        ("relu,sigmoid", "unknown layer 'sigmoid'; expected dense, conv, relu, maxpool, avgpool, flatten or dropout"),
        ("dropout(1.5)", "in 'dropout(1.5)': rate must be a number in [0, 1), got '1.5'"),
        ("conv(3,3,dilation=2)", "in 'conv(3,3,dilation=2)': unknown option 'dilation'; expected padding or stride"),
        ("dense(3),", "trailing comma after 'dense(3)'"),
    ])
    func rejectsMalformedSpecsPointingAtTheToken(text: String, message: String) {
        #expect(throws: ModelSpecError(message)) { try ModelSpec(parsing: text) }
    }

    @Test func builtinsResolve() throws {
        for name in ModelSpec.builtinNames { #expect(ModelSpec.builtin(name, classes: 10) != nil) }
        #expect(throws: ModelSpecError.self) { try ModelSpec.resolve("resnet50", classes: 10) }
        let lenet5 = try Model(spec: ModelSpec.builtin("lenet5-caffe", classes: 10)!, imageShape: [28, 28, 1])
        #expect(lenet5.parameterShapes.map(\.weight) == [[5, 5, 1, 20], [5, 5, 20, 50], [800, 500], [500, 10]])
        let mlp = try Model(spec: ModelSpec.builtin("lenet-300-100", classes: 10)!, imageShape: [28, 28, 1])
        #expect(mlp.inputShape == [784] && mlp.weightCount == 784 * 300 + 300 * 100 + 100 * 10)
        // Conv-4 as the original (VALID convolutions): 32 → 30 → 28 → 14 → 12 → 10 → 5, flatten 3200;
        // on 28×28×1: 26 → 24 → 12 → 10 → 8 → 4, flatten 2048. conv4-same keeps the maps' sizes.
        let conv4 = try Model(spec: ModelSpec.builtin("conv4", classes: 10)!, imageShape: [32, 32, 3])
        #expect(conv4.parameterShapes.map(\.weight)
                == [[3, 3, 3, 64], [3, 3, 64, 64], [3, 3, 64, 128], [3, 3, 128, 128], [3200, 512], [512, 10]])
        let conv4Gray = try Model(spec: ModelSpec.builtin("conv4", classes: 10)!, imageShape: [28, 28, 1])
        #expect(conv4Gray.parameterShapes.map(\.weight)[4] == [2048, 512])
        let dropout = try Model(spec: ModelSpec.builtin("conv4-dropout", classes: 10)!, imageShape: [32, 32, 3])
        #expect(dropout.parameterShapes.map(\.weight) == conv4.parameterShapes.map(\.weight))
        #expect(dropout.spec.layers.count == conv4.spec.layers.count + 3)
        let same = try Model(spec: ModelSpec.builtin("conv4-same", classes: 10)!, imageShape: [32, 32, 3])
        #expect(same.parameterShapes.map(\.weight)[4] == [8192, 512])
    }

    @Test func rejectsModelsThatDoNotFitTheirInput() throws {
        #expect(throws: ModelSpecError.self) {
            try Model(spec: ModelSpec(parsing: "conv(4,3),dense(10)"), imageShape: [8, 8, 1])
        }
        #expect(throws: ModelSpecError.self) {
            try Model(spec: ModelSpec(parsing: "conv(4,9),flatten,dense(2)"), imageShape: [8, 8, 1])
        }
        #expect(throws: ModelSpecError.self) { try Model(spec: ModelSpec(parsing: "relu"), imageShape: [8, 8, 1]) }
    }
}

struct InitializationTests {
    @Test func glorotTruncatedNormalAsJAX() throws {
        let model = try Model(spec: ModelSpec(parsing: "conv(64,5),flatten,dense(300)"), imageShape: [20, 20, 8])
        let p = model.initialize(seed: 3)
        // Dense [16·16·64 = 16384, 300]: variance 2/(fan_in + fan_out), truncated at ±2σ_raw.
        for (w, fanIn, fanOut) in [(p[0].weight, 25.0 * 8, 25.0 * 64), (p[1].weight, 16384.0, 300.0)] {
            let std = (2 / (fanIn + fanOut)).squareRoot()
            let values = w.scalars.map(Double.init)
            let mean = values.reduce(0, +) / Double(values.count)
            let measured = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
            #expect(abs(measured / std - 1) < 0.03, "std \(measured) vs \(std)")
            #expect(values.allSatisfy { abs($0) <= 2 * std / 0.87962566103423978 + 1e-6 })
        }
        let biasStd = (p[1].bias.scalars.map { Double($0 * $0) }.reduce(0, +) / 300).squareRoot()
        #expect(abs(biasStd - 0.01) < 0.002)
        #expect(model.initialize(seed: 3)[1].weight.scalars == p[1].weight.scalars)
        #expect(model.initialize(seed: 4)[1].weight.scalars != p[1].weight.scalars)
    }

    @Test func forwardShapesAndMaskedWeights() throws {
        let model = try Model(spec: ModelSpec(parsing: "conv(3,3,padding=same),relu,maxpool(2),flatten,dense(4)"),
                              imageShape: [6, 6, 2])
        let p = model.initialize(seed: 1)
        let x = Tensor(repeating: 0.5, shape: [2, 6, 6, 2])
        #expect(model.apply(p, to: x).shape == [2, 4])
        let zero = model.parameterShapes.map { Tensor.zeros($0.weight) }
        // All weights pruned: outputs are the last bias for every input.
        #expect(model.apply(p, masks: zero, to: x).scalars == p[1].bias.scalars + p[1].bias.scalars)
    }
}

/// Both passes (`apply`, and `tracedApply` for the NTK) run a relu after the max-pool that
/// follows it (cheaper). That order must give the same bits as the written one, in value and in
/// gradient, and the traced pass must list the relu's trace after the pool's, on the pooled size.
struct ReluPoolOrderTests {
    @Test func reluAfterPoolGivesTheSameBits() throws {
        let model = try Model(spec: ModelSpec.resolve("conv(6,3),relu,maxpool(2),conv(4,3,padding=same),relu,"
                                                          + "maxpool(2,stride=1),flatten,dense(10)", classes: 10),
                              imageShape: [10, 10, 1])
        let params = model.initialize(seed: 3)
        var rng = SeededRandom(seed: 5)
        let x = Tensor(shape: [8, 10, 10, 1], scalars: (0..<800).map { _ in Float(rng.nextNormal()) })
        let r = Tensor(shape: [8, 10], scalars: (0..<80).map { _ in Float(rng.nextNormal()) })
        let layers = params.count
        enum Pass { case written, swapped, traced }
        func loss(_ pass: Pass) -> (Tensor, [Tensor]) {
            valueAndGradient(at: params.map(\.weight) + params.map(\.bias)) { v in
                let w = Array(v[0..<layers]), b = Array(v[layers...])
                let p = (0..<layers).map { LayerParameters(weight: w[$0], bias: b[$0]) }
                let y: Tensor
                switch pass {
                case .swapped: y = model.apply(p, to: x)
                case .traced: y = model.tracedApply(weights: w, biases: b, to: x).output
                case .written:
                    var h = x, next = 0
                    for rule in model.rules {
                        let q = rule.hasParameters ? p[next] : nil
                        if rule.hasParameters { next += 1 }
                        h = rule.apply(h, parameters: q, position: 0, dropoutSeed: nil)
                    }
                    y = h
                }
                return (y * r).sum()
            }
        }
        let (written, writtenGrads) = loss(.written)
        for pass in [Pass.swapped, .traced] {
            let (value, grads) = loss(pass)
            #expect(value.scalars == written.scalars, "\(pass)")
            #expect(grads.map(\.scalars) == writtenGrads.map(\.scalars), "\(pass)")
        }
        let traces = model.tracedApply(weights: params.map(\.weight), biases: params.map(\.bias), to: x).traces
        #expect(traces.count == model.rules.count)
        // Rules 1 and 4 are the relus; their traces follow the pools' with the pooled shapes.
        for (relu, pooled) in [(1, [8, 4, 4, 6]), (4, [8, 3, 3, 4])] {
            #expect(traces[relu] is MaxPoolLayer.Trace, "rule \(relu)")
            #expect((traces[relu + 1] as? ReLULayer.Trace)?.mask.shape == pooled, "rule \(relu)")
        }
    }
}
