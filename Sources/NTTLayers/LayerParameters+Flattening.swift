/// The one flat layout of a model's parameters, used wherever they go through the tape or an
/// optimiser as a list of tensors: every layer's weight, then every layer's bias,
/// `[w₀, w₁, …, b₀, b₁, …]`.
extension Array where Element == LayerParameters {
    /// `[weights…, biases…]`.
    public var flattened: [Tensor] { map(\.weight) + map(\.bias) }

    /// The inverse of `flattened`: layers rebuilt from `[weights…, biases…]`.
    public init(unflattening tensors: [Tensor]) {
        precondition(tensors.count % 2 == 0,
                     "unflattening: \(tensors.count) tensors are not weights and biases in pairs")
        let layers = tensors.count / 2
        self = (0..<layers).map { LayerParameters(weight: tensors[$0], bias: tensors[layers + $0]) }
    }

    /// Layers from their weights and biases, in order.
    public init(weights: [Tensor], biases: [Tensor]) {
        precondition(weights.count == biases.count,
                     "LayerParameters: \(weights.count) weights for \(biases.count) biases")
        self = zip(weights, biases).map { LayerParameters(weight: $0, bias: $1) }
    }
}
