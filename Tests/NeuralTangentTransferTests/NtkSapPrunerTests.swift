import Testing
import NTTKernels
@testable import NeuralTangentTransfer

/// NTK-SAP as its reference code (YiteWang/NTK-SAP): weights perturbed, biases not; Gaussian
/// inputs; fresh θ per draw, `resamples` draws per round summed; exact counts.
struct NtkSapPrunerTests {
    static let model = try! Model(spec: ModelSpec(parsing: "dense(6),relu,dense(3)"), inputShape: [5])

    /// For a linear model f(x) = x(W⊙m) + b, perturbing the weights only, the residual is
    /// r = −ε x(Δ⊙m), so the score |∂R/∂m ⊙ m| at m = 1 is |2ε² Δᵢⱼ Σₛ xₛᵢ Σₖ xₛₖ Δₖⱼ|,
    /// independent of W and b. One round, with the pruner's own random draws replayed; a bias
    /// perturbation δb would add δbⱼ inside the sum and pick other weights.
    @Test func scoresMatchTheClosedFormOnALinearModel() throws {
        let (n, k, batch, seed): (Int, Int, Int, UInt64) = (8, 4, 4, 11)
        let model = try Model(spec: ModelSpec.resolve("dense(4)", classes: k), imageShape: [1, 1, n])
        let masks = NtkSapPruner.masks(model: model, density: 0.4, scope: .layerwise, seed: seed, rounds: 1,
                                       inputs: batch)
        var rng = SeededRandom(seed: seed, stream: "prune.ntk-sap")
        let x = (0..<(batch * n)).map { _ in rng.nextNormal() }        // drawn first: the inputs
        let delta = (0..<(n * k)).map { _ in rng.nextNormal() }        // then the weight perturbation [n, k]
        let deltaBias = (0..<k).map { _ in rng.nextNormal() }          // what a bias perturbation would draw next
        func kept(biasTerm: Double) -> [Int] {
            var scores: [(score: Double, index: Int)] = []
            for i in 0..<n {
                for j in 0..<k {
                    var total = 0.0
                    for s in 0..<batch {
                        let pre = (0..<n).map { x[s * n + $0] * delta[$0 * k + j] }.reduce(0, +)
                            + biasTerm * deltaBias[j]
                        total += x[s * n + i] * pre
                    }
                    scores.append((abs(2 * 0.01 * 0.01 * delta[i * k + j] * total), i * k + j))
                }
            }
            return scores.sorted { $0.score > $1.score }.prefix(13).map(\.index).sorted()
        }
        let got = masks[0].scalars.enumerated().filter { $0.element == 1 }.map(\.offset)
        #expect(got == kept(biasTerm: 0))
        #expect(kept(biasTerm: 0) != kept(biasTerm: 1))  // the check would see a bias perturbation
    }

    /// The perturbed network differs from θ in every weight and in no bias.
    @Test func perturbsWeightsOnly() {
        let theta = Self.model.initialize(seed: 3)
        var rng = SeededRandom(seed: 3, stream: "test")
        let perturbed = NtkSapPruner.perturbWeights(theta, epsilon: 0.01, &rng)
        for (p, q) in zip(theta, perturbed) {
            #expect(p.bias.scalars.map(\.bitPattern) == q.bias.scalars.map(\.bitPattern))
            #expect(zip(p.weight.scalars, q.weight.scalars).allSatisfy { $0 != $1 && abs($0 - $1) < 0.1 })
        }
    }

    /// One round with two re-samples on a ReLU net, recomputed plainly: ∂R/∂m summed over two
    /// draws (θ fresh each time, the last the seed's own initialisation, x and Δ from the stream).
    @Test func resamplesSumFreshDrawsEndingWithTheSeedsInitialisation() {
        let (seed, inputs, epsilon): (UInt64, Int, Float) = (4, 7, 0.01)
        let masks = NtkSapPruner.masks(model: Self.model, density: 0.3, scope: .global, seed: seed, rounds: 1,
                                       resamples: 2, inputs: inputs)
        var rng = SeededRandom(seed: seed, stream: "prune.ntk-sap")
        let ones = Self.model.parameterShapes.map { Tensor.ones($0.weight) }
        var total = ones.map { Tensor.zeros($0.shape) }
        for theta in [Self.model.initialize(seed: seed &+ 7919), Self.model.initialize(seed: seed)] {
            let x = Tensor(shape: [inputs, 5], scalars: (0..<(inputs * 5)).map { _ in Float(rng.nextNormal()) })
            let perturbed = theta.map { p in
                LayerParameters(weight: p.weight + Tensor(shape: p.weight.shape, scalars: p.weight.scalars.map { _ in
                    Float(rng.nextNormal()) }) * epsilon, bias: p.bias)
            }
            let g = gradient(at: ones) { m in
                (Self.model.apply(theta, masks: m, to: x) - Self.model.apply(perturbed, masks: m, to: x))
                    .squared().sum()
            }
            total = zip(total, g).map { $0 + $1 }
        }
        let expected = MaskSelection.masks(scores: total.map { Tensor(shape: $0.shape, scalars: $0.scalars.map(abs)) },
                                           density: 0.3, scope: .global)
        #expect(masks.map(\.scalars) == expected.map(\.scalars))
    }

    /// Same seed, same masks; other seeds and other re-sample counts give others; exactly
    /// round(d·n) weights kept in either scope, also when the inputs span several batches.
    @Test(arguments: PruningScope.allCases)
    func deterministicWithExactDensity(scope: PruningScope) {
        func masks(seed: UInt64, resamples: Int = 1) -> [[Float]] {
            NtkSapPruner.masks(model: Self.model, density: 0.25, scope: scope, seed: seed, rounds: 4,
                               resamples: resamples, inputs: 300).map(\.scalars)  // batches of 256 and 44
        }
        let a = masks(seed: 1)
        #expect(a == masks(seed: 1))
        #expect(a != masks(seed: 2))
        #expect(a != masks(seed: 1, resamples: 3) && masks(seed: 1, resamples: 3) == masks(seed: 1, resamples: 3))
        let kept = a.map { $0.filter { $0 == 1 }.count }
        if scope == .layerwise { #expect(kept == [8, 5]) }   // round(0.25 · 30), round(0.25 · 18)
        else { #expect(kept.reduce(0, +) == 12) }            // round(0.25 · 48)
    }

    /// A count of re-samples below 1 is refused with a one-line error naming the flag, by the
    /// method and by every settings value that carries it.
    @Test(arguments: [0, -3])
    func resamplesMustBePositive(count: Int) {
        func check(_ body: () throws -> Void) {
            #expect { try body() } throws: { "\($0)".contains("--ntk-sap-resamples") && !"\($0)".contains("\n") }
        }
        check {
            _ = try PruningMethod.ntkSap.initialize(model: Self.model, density: 0.5, scope: .global, seed: 0,
                                                    batch: nil, ntkSapResamples: count)
        }
        var train = TrainConfig()
        train.ntkSapResamples = count
        check { try train.validate() }
    }
}
