import NTTKernels
import NTTLayers

/// NTK-SAP (Wang, Li & Sun, ICLR 2023): prune to preserve the NTK's eigenspectrum, measured by
/// its trace, estimated without the Jacobian by finite differences:
///
///     R(m) = Σₓ ‖f(x; θ ⊙ m) − f(x; (θ + ε Δ) ⊙ m)‖²,  x ~ N(0, I),  Δ ~ N(0, I) on weights
///
/// E[R] ≈ ε² · tr Θ. The saliency is |∂R/∂m ⊙ m|, the mask treated as continuous. What follows
/// the reference code (github.com/YiteWang/NTK-SAP), and where it does it:
///
/// - Perturbation of weights only, not biases: `NTKSAP.score`'s `perturb` (Pruners/pruners.py)
///   adds ε·N(0, 1) to the *masked* parameters, which `generator.masked_parameters` yields
///   without biases (`--prune-bias False`). ε = 0.01 (`--ntksap_epsilon`, main.py).
/// - Gaussian inputs of the pruning loader's size: `NTKSAP.score` replaces each batch of the
///   pruning loader by `torch.randn_like(data)`; that loader holds `--prune-dataset-ratio` (10) ×
///   classes examples in batches of `--prune-batch-size` (256) (Experiments/singleshot.py,
///   Utils/load.py `dataloader`): 100 standard-normal inputs for 10 classes. We draw 10 × the
///   model's outputs, in batches of at most 256.
/// - A fresh θ for every batch: `NTKSAP.score` calls `model._initialize_weights()` before each
///   batch, `resamples` times over the loader per round (`--ntksap_R`, default 1 in main.py; the
///   authors' scripts/run.sh uses 5); ∂R/∂m is summed over all of them, Δ and x fresh each time.
/// - T = `rounds` = 20 rounds (`--prune-epochs 20` in scripts/run.sh) with the exponential
///   schedule d^(r/T) (prune.py `prune_loop`); scores of pruned weights are zero there (`m != 0`)
///   and never beat a survivor; here they rank below every survivor, and `MaskSelection` keeps
///   exactly round(d·n) weights where the reference thresholds with `kthvalue`.
/// - The reference trains the weights of its last draw (it re-initialises the model itself). Our
///   last draw is `model.initialize(seed:)`, the initialisation every method starts from: as
///   there, the network is trained from the last θ scored, and it has the other methods' weights.
///
/// Global by default (`--mask-scope global`); `PruningScopeChoice.native` picks that.
public enum NtkSapPruner {
    /// The reference's defaults (main.py, scripts/run.sh).
    public static let defaultRounds = 20, defaultResamples = 1
    public static let defaultEpsilon: Float = 0.01
    /// Gaussian inputs per output class (`--prune-dataset-ratio`) and the largest batch (`--prune-batch-size`).
    public static let inputsPerClass = 10, largestBatch = 256

    /// Checks a `resamples` setting; the error names the flag.
    public static func checkResamples(_ resamples: Int) throws(NTTError) {
        guard resamples > 0 else { throw NTTError("--ntk-sap-resamples must be a positive count, got \(resamples)") }
    }

    /// Masks of `density` in `scope`, from `seed`.
    ///
    /// - Parameters:
    ///   - resamples: passes over the Gaussian inputs per round, each batch with a fresh θ (≥ 1).
    ///   - inputs: Gaussian inputs per pass (default: 10 per output).
    public static func masks(model: Model, density: Double, scope: PruningScope, seed: UInt64,
                             rounds: Int = defaultRounds, resamples: Int = defaultResamples, inputs: Int? = nil,
                             epsilon: Float = defaultEpsilon) -> [Tensor] {
        precondition(rounds > 0 && resamples > 0, "NtkSapPruner: \(rounds) rounds, \(resamples) resamples")
        let count = inputs ?? inputsPerClass * model.outputCount
        let batches = stride(from: 0, to: count, by: largestBatch).map { min(largestBatch, count - $0) }
        let draws = rounds * resamples * batches.count
        var masks = model.parameterShapes.map { Tensor.ones($0.weight) }
        var rng = SeededRandom(seed: seed, stream: "prune.ntk-sap")
        var draw = 0
        for round in 1...rounds {
            let keep = Foundation_pow(density, Double(round) / Double(rounds))
            var total = masks.map { Tensor.zeros($0.shape) }
            for _ in 0..<resamples {
                for size in batches {
                    draw += 1
                    // The last draw is the seed's own initialisation (see above).
                    let theta = model.initialize(seed: seed &+ UInt64(draws - draw) &* 7919)
                    let x = gaussian([size] + model.inputShape, &rng)
                    let perturbed = perturbWeights(theta, epsilon: epsilon, &rng)
                    let grads = gradient(at: masks) { m in
                        (model.apply(theta, masks: m, to: x) - model.apply(perturbed, masks: m, to: x))
                            .squared().sum()
                    }
                    total = zip(total, grads).map { $0 + $1 }
                }
            }
            let scored = zip(total, masks).map { g, m in
                Tensor(shape: m.shape, scalars: zip(g.scalars, m.scalars).map { $1 == 0 ? -1 : abs($0 * $1) })
            }
            masks = MaskSelection.masks(scores: scored, density: keep, scope: scope)
        }
        return masks
    }

    /// θ + εΔ on the weights, Δ ~ N(0, I) drawn layer by layer; biases unchanged.
    static func perturbWeights(_ theta: [LayerParameters], epsilon: Float,
                               _ rng: inout SeededRandom) -> [LayerParameters] {
        theta.map { p in
            LayerParameters(weight: withoutDerivatives { p.weight + gaussian(p.weight.shape, &rng) * epsilon },
                            bias: p.bias)
        }
    }

    static func gaussian(_ shape: [Int], _ rng: inout SeededRandom) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextNormal()) })
    }
}
