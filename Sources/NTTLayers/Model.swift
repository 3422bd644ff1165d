/// A sequential model resolved against its per-sample input shape: the shape after every
/// layer, and the weight/bias shapes of its parametrised layers.
///
/// ```swift
/// let model = try Model(spec: .builtin("lenet5-caffe", classes: 10)!, inputShape: [28, 28, 1])
/// let params = model.initialize(seed: 0)
/// let logits = model.apply(params, to: x)          // x: [N, 28, 28, 1]
/// ```
public struct Model: Sendable {
    public let spec: ModelSpec
    /// Per-sample input shape: [features] for a model that starts with `dense`, else [H, W, C].
    public let inputShape: [Int]
    /// Per-sample output shape of each layer.
    public let layerOutputShapes: [[Int]]
    /// Positions (in `spec.layers`) of the layers that own parameters, in order.
    public let parametrisedLayers: [Int]
    /// Each layer's rule, in order (`Layer.rule`).
    package let rules: [any LayerRule]

    /// Resolves `spec` for samples of shape `imageShape` ([H, W, C]); a model whose first layer is
    /// dense takes the flattened image.
    public init(spec: ModelSpec, imageShape: [Int]) throws(ModelSpecError) {
        if case .dense = spec.layers.first {
            try self.init(spec: spec, inputShape: [imageShape.reduce(1, *)])
        } else {
            try self.init(spec: spec, inputShape: imageShape)
        }
    }

    public init(spec: ModelSpec, inputShape: [Int]) throws(ModelSpecError) {
        self.spec = spec
        self.inputShape = inputShape
        rules = spec.layers.map(\.rule)
        var shape = inputShape
        var shapes: [[Int]] = [], params: [Int] = []
        for (i, rule) in rules.enumerated() {
            do {
                shape = try rule.outputShape(forInput: shape)
            } catch {
                throw ModelSpecError("layer \(i + 1) '\(ModelSpec(layers: [spec.layers[i]]))': \(error.description)")
            }
            if rule.hasParameters { params.append(i) }
            shapes.append(shape)
        }
        guard shape.count == 1 else {
            throw ModelSpecError("the model must end with flat outputs, but its output shape is \(shape); "
                                 + "add 'flatten' and 'dense'")
        }
        guard !params.isEmpty else { throw ModelSpecError("the model has no dense or conv layer") }
        layerOutputShapes = shapes
        parametrisedLayers = params
    }

    /// The number of outputs k.
    public var outputCount: Int { layerOutputShapes.last![0] }

    /// Per-sample input shape of layer `i`.
    public func inputShape(ofLayer i: Int) -> [Int] { i == 0 ? inputShape : layerOutputShapes[i - 1] }

    /// Weight and bias shapes of the parametrised layers, in order.
    public var parameterShapes: [(weight: [Int], bias: [Int])] {
        parametrisedLayers.map { i in rules[i].parameterShapes(forInput: inputShape(ofLayer: i))! }
    }

    /// Total number of weights (not biases).
    public var weightCount: Int { parameterShapes.reduce(0) { $0 + $1.weight.reduce(1, *) } }

    /// Fresh parameters as JAX's stax does (each layer's `LayerRule.initialize`; for dense and
    /// conv layers `GlorotNormal`), from random streams named after the parametrised layer's index.
    public func initialize(seed: UInt64) -> [LayerParameters] {
        parametrisedLayers.enumerated().map { index, i in
            rules[i].initialize(forInput: inputShape(ofLayer: i), seed: seed, index: index)!
        }
    }

    /// Checks that `x` is a batch of this model's inputs: [N] + inputShape.
    public func checkInput(_ x: Tensor) throws(ModelSpecError) {
        guard x.rank == inputShape.count + 1, Array(x.shape.dropFirst()) == inputShape else {
            throw ModelSpecError("the model expects inputs of shape "
                                 + "[N, \(inputShape.map(String.init).joined(separator: ", "))], got \(x.shape)")
        }
    }

    /// Reshapes a batch of images [N, H, W, C] to this model's input (flattening for MLPs).
    public func prepare(_ images: Tensor) -> Tensor {
        images.shape.dropFirst().elementsEqual(inputShape) ? images : images.reshaped([images.shape[0]] + inputShape)
    }
}
