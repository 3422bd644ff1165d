import NTTKernels
import NTTLayers

/// NTK-SAP (Wang, Chen, Sun & Zhu, ICLR 2023): prune to preserve the NTK's eigenspectrum,
/// measured by its trace, estimated without the Jacobian by finite differences:
///
///     R(m) = ‖f(x; θ ⊙ m) − f(x; (θ + ε Δ) ⊙ m)‖²,  x ~ N(0, I),  Δ ~ N(0, I),  ε = 0.01
///
/// E[R] ≈ ε² · tr Θ. The saliency is |∂R/∂m ⊙ m|, with the mask treated as continuous and θ
/// re-drawn (a fresh initialisation) for every batch, so the mask does not fit one draw of θ.
/// Iterative over `rounds` rounds with the exponential schedule d^(r/rounds), global by default.
public enum NtkSapPruner {
    public static func masks(model: Model, density: Double, scope: PruningScope, seed: UInt64,
                             rounds: Int = 20, batchSize: Int = 64, epsilon: Float = 0.01) -> [Tensor] {
        var masks = model.parameterShapes.map { Tensor.ones($0.weight) }
        var rng = SeededRandom(seed: seed, stream: "prune.ntk-sap")
        func gaussian(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextNormal()) })
        }
        for round in 1...rounds {
            let keep = Foundation_pow(density, Double(round) / Double(rounds))
            let theta = model.initialize(seed: seed &+ UInt64(round) &* 7919)
            let x = gaussian([batchSize] + model.inputShape)
            let perturbed = theta.map { p in
                LayerParameters(weight: withoutDerivatives { p.weight + gaussian(p.weight.shape) * epsilon },
                                bias: withoutDerivatives { p.bias + gaussian(p.bias.shape) * epsilon })
            }
            let grads = gradient(at: masks) { m in
                (model.apply(theta, masks: m, to: x) - model.apply(perturbed, masks: m, to: x)).squared().sum()
            }
            let scored = zip(grads, masks).map { g, m in
                Tensor(shape: m.shape, scalars: zip(g.scalars, m.scalars).map { $1 == 0 ? -1 : abs($0 * $1) })
            }
            masks = MaskSelection.masks(scores: scored, density: keep, scope: scope)
        }
        return masks
    }
}
