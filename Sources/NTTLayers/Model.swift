import NTTKernels

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
        var shape = inputShape
        var shapes: [[Int]] = [], params: [Int] = []
        for (i, layer) in spec.layers.enumerated() {
            func fail(_ why: String) -> ModelSpecError { ModelSpecError("layer \(i + 1) '\(ModelSpec(layers: [layer]))': \(why)") }
            switch layer {
            case .dense(let units):
                guard shape.count == 1 else { throw fail("needs a flat input but gets shape \(shape); add 'flatten' before it") }
                shape = [units]
            case .conv(let filters, let k, let s, let p):
                let (h, w) = try Model.windowOutput(shape, k, s, p, fail)
                shape = [h, w, filters]
            case .maxPool(let k, let s, let p), .avgPool(let k, let s, let p):
                let (h, w) = try Model.windowOutput(shape, k, s, p, fail)
                shape = [h, w, shape[2]]
            case .flatten: shape = [shape.reduce(1, *)]
            case .relu, .dropout: break
            }
            if layer.isParametrised { params.append(i) }
            shapes.append(shape)
        }
        guard shape.count == 1 else { throw ModelSpecError("the model must end with flat outputs, but its output shape is \(shape); add 'flatten' and 'dense'") }
        guard !params.isEmpty else { throw ModelSpecError("the model has no dense or conv layer") }
        layerOutputShapes = shapes
        parametrisedLayers = params
    }

    /// Output height and width of a window layer on a per-sample [H, W, C] input.
    private static func windowOutput(_ shape: [Int], _ k: Window, _ s: Window, _ p: Padding,
                              _ fail: (String) -> ModelSpecError) throws(ModelSpecError) -> (Int, Int) {
        guard shape.count == 3 else { throw fail("needs an image input [H, W, C] but gets shape \(shape)") }
        let g = WindowGeometry(batch: 1, height: shape[0], width: shape[1], channels: shape[2],
                               windowHeight: k.height, windowWidth: k.width,
                               strideHeight: s.height, strideWidth: s.width, padding: p)
        guard g.outHeight > 0 && g.outWidth > 0 else { throw fail("a \(k) window does not fit a \(shape[0])x\(shape[1]) input") }
        return (g.outHeight, g.outWidth)
    }

    /// The number of outputs k.
    public var outputCount: Int { layerOutputShapes.last![0] }

    /// Per-sample input shape of layer `i`.
    public func inputShape(ofLayer i: Int) -> [Int] { i == 0 ? inputShape : layerOutputShapes[i - 1] }

    /// Weight and bias shapes of the parametrised layers, in order.
    public var parameterShapes: [(weight: [Int], bias: [Int])] {
        parametrisedLayers.map { i in
            let inShape = inputShape(ofLayer: i)
            switch spec.layers[i] {
            case .dense(let units): return ([inShape[0], units], [units])
            case .conv(let filters, let k, _, _): return ([k.height, k.width, inShape[2], filters], [filters])
            default: fatalError("unreachable: layer \(i) is not parametrised")
            }
        }
    }

    /// Total number of weights (not biases).
    public var weightCount: Int { parameterShapes.reduce(0) { $0 + $1.weight.reduce(1, *) } }

    /// Fresh parameters as JAX's stax does: weights Glorot-normal (variance scaling 1, fan_avg,
    /// normal truncated at ±2σ with σ corrected for the truncation), biases normal(0.01).
    /// Conv fans include the receptive field: fan_in = kh·kw·cin, fan_out = kh·kw·cout.
    public func initialize(seed: UInt64) -> [LayerParameters] {
        parameterShapes.enumerated().map { (i, shapes) in
            let w = shapes.weight
            let receptive = w.dropLast(2).reduce(1, *)
            let fanIn = Double(w[w.count - 2] * receptive), fanOut = Double(w[w.count - 1] * receptive)
            // 0.87962566103423978 = std of a standard normal truncated to [−2, 2].
            let std = (1.0 / ((fanIn + fanOut) / 2)).squareRoot() / 0.87962566103423978
            var rng = SeededRandom(seed: seed, stream: "init.layers.\(i).weight")
            let weights = (0..<w.reduce(1, *)).map { _ in Float(rng.nextTruncatedNormal() * std) }
            var biasRNG = SeededRandom(seed: seed, stream: "init.layers.\(i).bias")
            let biases = (0..<shapes.bias[0]).map { _ in Float(biasRNG.nextNormal() * 0.01) }
            return LayerParameters(weight: Tensor(shape: w, scalars: weights),
                                   bias: Tensor(shape: shapes.bias, scalars: biases))
        }
    }

    /// Checks that `x` is a batch of this model's inputs: [N] + inputShape.
    public func checkInput(_ x: Tensor) throws(ModelSpecError) {
        guard x.rank == inputShape.count + 1, Array(x.shape.dropFirst()) == inputShape else {
            throw ModelSpecError("the model expects inputs of shape [N, \(inputShape.map(String.init).joined(separator: ", "))], got \(x.shape)")
        }
    }

    /// Reshapes a batch of images [N, H, W, C] to this model's input (flattening for MLPs).
    public func prepare(_ images: Tensor) -> Tensor {
        images.shape.dropFirst().elementsEqual(inputShape) ? images : images.reshaped([images.shape[0]] + inputShape)
    }
}
