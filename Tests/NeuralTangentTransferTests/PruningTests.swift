import Testing
import NTTKernels
@testable import NeuralTangentTransfer

struct MaskSelectionTests {
    @Test func exactCountsAndDeterministicTies() {
        let scores = [Tensor(shape: [2, 3], scalars: [5, 1, 5, 3, 5, 0]), Tensor(shape: [4], scalars: [2, 2, 2, 2])]
        let layerwise = MaskSelection.masks(scores: scores, density: 0.5, scope: .layerwise)
        // Ties at 5 go to the earlier positions; 3 of 6 and 2 of 4 kept.
        #expect(layerwise[0].scalars == [1, 0, 1, 0, 1, 0])
        #expect(layerwise[1].scalars == [1, 1, 0, 0])
        let global = MaskSelection.masks(scores: scores, density: 0.5, scope: .global)
        #expect(MaskSelection.keptCounts(global) == [4, 1])
        #expect(global[0].scalars == [1, 0, 1, 1, 1, 0]
                && global[1].scalars == [0, 0, 0, 0].enumerated().map { $0.offset == 0 ? 1 : 0 })
        // At least one weight per layer survives even at tiny densities.
        #expect(MaskSelection.keptCounts(MaskSelection.masks(scores: scores, density: 0.01, scope: .layerwise))
                == [1, 1])
    }

    @Test func magnitudeKeepsLargest() {
        let w = [Tensor(shape: [4], scalars: [-3, 1, 2, -0.5])]
        #expect(MagnitudePruner.masks(weights: w, density: 0.5, scope: .layerwise)[0].scalars == [1, 0, 1, 0])
    }
}

struct BaselinePrunerTests {
    static let model = try! Model(spec: ModelSpec(parsing: "dense(3),relu,dense(2)"), inputShape: [4])

    static func batch() -> (images: Tensor, labels: [Int]) {
        var r = SeededRandom(seed: 3)
        return (Tensor(shape: [6, 4], scalars: (0..<24).map { _ in Float(r.nextNormal()) }), [0, 1, 1, 0, 1, 0])
    }

    @Test func snipOnALinearModelMatchesTheClosedForm() throws {
        // f = xW + b: ∂CE/∂W = xᵀ(softmax(f) − y)/N, score |W ⊙ ∂CE/∂W|.
        let linear = try Model(spec: ModelSpec(parsing: "dense(2)"), inputShape: [3])
        let p = linear.initialize(seed: 2)
        let x = Tensor(shape: [2, 3], scalars: [1, 0, 2, -1, 1, 0.5]), labels = [1, 0]
        let logits = linear.apply(p, to: x).scalars
        var grad = [Float](repeating: 0, count: 6)
        for i in 0..<2 {
            let e = [logits[i * 2], logits[i * 2 + 1]].map { Foundation_exp($0) }
            let s = e.map { $0 / (e[0] + e[1]) }
            for c in 0..<2 { let d = (s[c] - (labels[i] == c ? 1 : 0)) / 2
                for f in 0..<3 { grad[f * 2 + c] += x.scalars[i * 3 + f] * d } }
        }
        let scores = SnipPruner.scores(model: linear, parameters: p, images: x, labels: labels)[0].scalars
        for (s, (w, g)) in zip(scores, zip(p[0].weight.scalars, grad)) { #expect(abs(s - abs(w * g)) < 1e-6) }
    }

    @Test func graspUsesTheHessianGradientProduct() {
        // Hg by central differences of the gradient along g: (∇L(w + εg) − ∇L(w − εg)) / 2ε.
        let p = Self.model.initialize(seed: 4)
        let (x, y) = Self.batch()
        let onehot = Tensor.oneHot(y, classes: 2)
        func grad(_ w: [Tensor]) -> [Tensor] {
            gradient(at: w) { w in
                let q = zip(w, p).map { LayerParameters(weight: $0, bias: $1.bias) }
                return Tensor.softmaxCrossEntropy(logits: Self.model.apply(q, to: x) / GraspPruner.temperature,
                                                  labels: onehot)
            }
        }
        let w = p.map(\.weight), g = grad(w)
        let eps: Float = 1e-2 / max(g.flatMap(\.scalars).map(abs).max()!, 1e-12)
        let plus = grad(zip(w, g).map { $0 + $1 * eps }), minus = grad(zip(w, g).map { $0 - $1 * eps })
        let scores = GraspPruner.scores(model: Self.model, parameters: p, images: x, labels: y)
        for l in 0..<2 {
            for i in 0..<w[l].count {
                let hg = (plus[l].scalars[i] - minus[l].scalars[i]) / (2 * eps)
                let expected = w[l].scalars[i] * hg
                #expect(abs(scores[l].scalars[i] - expected) <= 0.05 * abs(expected) + 1e-9, "layer \(l)[\(i)]")
            }
        }
    }

    @Test func synflowScoresAreSynapticFlowOnAPositiveNet() throws {
        // dense(2) → relu → dense(1) on input 1: R = Σ_k |v_k|(Σ_i |W_ik| + |b_k|) + |c|,
        // so score(W_ik) = |W_ik|·|v_k| and score(v_k) = |v_k|·(Σ_i |W_ik| + |b_k|).
        let m = try Model(spec: ModelSpec(parsing: "dense(2),relu,dense(1)"), inputShape: [3])
        let p = m.initialize(seed: 6)
        let W = p[0].weight.scalars.map(abs), b = p[0].bias.scalars.map(abs), v = p[1].weight.scalars.map(abs)
        var scores: [Float] = (0..<6).map { W[$0] * v[$0 % 2] }
        scores += (0..<2).map { k in v[k] * ((0..<3).reduce(Float(0)) { $0 + W[$1 * 2 + k] } + b[k]) }
        let keep = 4
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(keep)
        let masks = SynFlowPruner.masks(model: m, parameters: p, density: Double(keep) / 8, scope: .global, rounds: 1)
        let flat = masks.flatMap(\.scalars)
        #expect(flat.enumerated().filter { $0.element == 1 }.map(\.offset) == order.sorted())
    }

    @Test(arguments: PruningMethod.allCases, PruningScope.allCases)
    func everyMethodKeepsExactCountsDeterministically(method: PruningMethod, scope: PruningScope) throws {
        let density = 0.4
        let a = try method.initialize(model: Self.model, density: density, scope: scope, seed: 9, batch: Self.batch())
        let b = try method.initialize(model: Self.model, density: density, scope: scope, seed: 9, batch: Self.batch())
        #expect(a.masks.map(\.scalars) == b.masks.map(\.scalars))
        #expect(a.parameters.map(\.weight.scalars) == b.parameters.map(\.weight.scalars))
        let counts = a.keptPerLayer
        if method == .dense { #expect(counts == [12, 6]) }
        else if scope == .layerwise { #expect(counts == [5, 2]) }
        else { #expect(counts.reduce(0, +) == 7) }
        if method == .scaledRandom {
            let plain = Self.model.initialize(seed: 9)
            #expect(abs(a.parameters[0].weight.scalars[0]
                        - plain[0].weight.scalars[0] / Float(density.squareRoot())) < 1e-6)
        }
    }

    /// Derivatives w.r.t. masks must flow even where a mask keeps everything (a shortcut for
    /// all-ones masks once made them zero, and NTK-SAP, which scores ∂R/∂m, then kept only the
    /// first weights of the first layer).
    @Test func maskGradientsFlowThroughAllOnesMasks() throws {
        let params = Self.model.initialize(seed: 2)
        let ones = Self.model.parameterShapes.map { Tensor.ones($0.weight) }
        let g = gradient(at: ones) { m in
            Model.effectiveWeights(params, masks: m).map { $0.sum() }.reduce(Tensor(0), +)
        }
        for (gl, p) in zip(g, params) { #expect(gl.scalars == p.weight.scalars) }
        // NTK-SAP on LeNet-300-100, global, 10%: every layer keeps weights (no collapse).
        let mlp = try Model(spec: ModelSpec.resolve("lenet-300-100", classes: 10), imageShape: [28, 28, 1])
        let kept = MaskSelection.keptCounts(NtkSapPruner.masks(model: mlp, density: 0.1, scope: .global,
                                                               seed: 0, rounds: 3))
        #expect(kept.allSatisfy { $0 > 0 } && kept.reduce(0, +) == 26620, "\(kept)")
    }

    @Test func dataMethodsNeedData() {
        #expect(throws: NTTError.self) {
            try PruningMethod.snip.initialize(model: Self.model, density: 0.5, scope: .layerwise, seed: 1, batch: nil)
        }
        #expect(throws: NTTError.self) {
            try PruningMethod.random.initialize(model: Self.model, density: 0, scope: .layerwise, seed: 1, batch: nil)
        }
    }
}

#if canImport(Glibc)
import Glibc
private func Foundation_exp(_ x: Float) -> Float { expf(x) }
#endif
