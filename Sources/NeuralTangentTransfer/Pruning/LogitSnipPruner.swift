import NTTLayers

/// Logit-SNIP: score |w ⊙ ∂(Σ f(x)²)/∂w| on unlabelled inputs x — SNIP's connection
/// sensitivity with the squared outputs in place of the labelled loss.
public enum LogitSnipPruner {
    public static func scores(model: Model, parameters: [LayerParameters], inputs: Tensor) -> [Tensor] {
        let biases = parameters.map(\.bias)
        let grads = gradient(at: parameters.map(\.weight)) { w in
            let p = [LayerParameters](weights: w, biases: biases)
            return model.apply(p, to: inputs).squared().sum()
        }
        return zip(parameters, grads).map { p, g in
            Tensor(shape: g.shape, scalars: zip(p.weight.scalars, g.scalars).map { abs($0 * $1) })
        }
    }

    public static func masks(model: Model, parameters: [LayerParameters], inputs: Tensor,
                             density: Double, scope: PruningScope) -> [Tensor] {
        MaskSelection.masks(scores: scores(model: model, parameters: parameters, inputs: inputs),
                            density: density, scope: scope)
    }
}
