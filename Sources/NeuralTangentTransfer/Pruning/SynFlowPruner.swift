import NTTLayers

/// SynFlow (Tanaka, Kunin, Yamins & Ganguli, NeurIPS 2020): data-free, iterative. The network
/// is linearised by taking |θ| for every weight and bias; with an all-ones input,
/// R = Σ f(1; |θ| ⊙ m) and the score is |∂R/∂w ⊙ w|. Over `rounds` rounds the kept fraction
/// follows d^(r/rounds) (exponential schedule); each round re-scores with the current mask and
/// prunes globally (as the paper) or per layer. ReLUs stay active because every value is ≥ 0.
public enum SynFlowPruner {
    public static func masks(model: Model, parameters: [LayerParameters], density: Double, scope: PruningScope,
                             rounds: Int = 100) -> [Tensor] {
        let absolute = parameters.map { p in
            LayerParameters(weight: Tensor(shape: p.weight.shape, scalars: p.weight.scalars.map(abs)),
                            bias: Tensor(shape: p.bias.shape, scalars: p.bias.scalars.map(abs)))
        }
        let ones = Tensor.ones([1] + model.inputShape)
        var masks = parameters.map { Tensor.ones($0.weight.shape) }
        for round in 1...rounds {
            let keep = Foundation_pow(density, Double(round) / Double(rounds))
            let current = masks
            let grads = gradient(at: absolute.map(\.weight)) { w in
                let p = [LayerParameters](weights: w, biases: absolute.map(\.bias))
                return model.apply(p, masks: current, to: ones).sum()
            }
            // Scores are only ranked, so a common rescaling keeps them in Float32 range.
            var scores = zip(absolute, grads).map { p, g in zip(p.weight.scalars, g.scalars).map { abs($0 * $1) } }
            let largest = scores.flatMap { $0 }.max() ?? 1
            if largest > 0 && largest.isFinite { scores = scores.map { $0.map { $0 / largest } } }
            // Pruned weights must stay pruned: rank them below every survivor.
            let masked = zip(scores, masks).enumerated().map { (i, pair) in
                Tensor(shape: parameters[i].weight.shape,
                       scalars: zip(pair.0, pair.1.scalars).map { $1 == 0 ? -1 : $0 })
            }
            masks = MaskSelection.masks(scores: masked, density: keep, scope: scope)
        }
        return masks
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_pow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
#endif
