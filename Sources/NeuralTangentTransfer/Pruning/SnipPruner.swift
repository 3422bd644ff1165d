import NTTLayers

/// SNIP (Lee, Ajanthan & Torr, ICLR 2019): connection sensitivity |w ⊙ ∂L/∂w| with L the
/// softmax cross-entropy on a labelled batch, at initialisation. Keeps the highest scores.
public enum SnipPruner {
    public static func scores(model: Model, parameters: [LayerParameters], images: Tensor, labels: [Int]) -> [Tensor] {
        let y = Tensor.oneHot(labels, classes: model.outputCount)
        let biases = parameters.map(\.bias)
        let grads = gradient(at: parameters.map(\.weight)) { w in
            let p = [LayerParameters](weights: w, biases: biases)
            return Tensor.softmaxCrossEntropy(logits: model.apply(p, to: images), labels: y)
        }
        return zip(parameters, grads).map { p, g in
            Tensor(shape: g.shape, scalars: zip(p.weight.scalars, g.scalars).map { abs($0 * $1) })
        }
    }
}
