import NTTLayers

/// GraSP (Wang, Zhang & Grosse, ICLR 2020): preserve gradient flow. With g = ∂L/∂w of the
/// cross-entropy of logits/T (T = 200) and the Hessian-gradient product Hg = ∂(gᵀ·stop(g))/∂w
/// (double backprop), the paper scores S = −w ⊙ Hg and removes the *highest* scores (their
/// removal reduces gradient flow least… the reference implementation keeps S ≤ threshold).
/// Keeping the lowest S is keeping the highest w ⊙ Hg, which is the score returned here.
public enum GraspPruner {
    public static let temperature: Float = 200

    public static func scores(model: Model, parameters: [LayerParameters], images: Tensor, labels: [Int]) -> [Tensor] {
        let y = Tensor.oneHot(labels, classes: model.outputCount)
        let biases = parameters.map(\.bias)
        func loss(_ w: [Tensor]) -> Tensor {
            let p = [LayerParameters](weights: w, biases: biases)
            return Tensor.softmaxCrossEntropy(logits: model.apply(p, to: images) / temperature, labels: y)
        }
        let g = gradient(at: parameters.map(\.weight), of: loss).map(\.detached)
        let hg = gradient(at: parameters.map(\.weight)) { w in
            zip(gradient(at: w, of: loss), g).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
        }
        return zip(parameters, hg).map { p, h in
            Tensor(shape: h.shape, scalars: zip(p.weight.scalars, h.scalars).map { $0 * $1 })
        }
    }
}
