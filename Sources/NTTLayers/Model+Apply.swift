import NTTKernels

/// What one layer did in a forward pass, kept so that the NTK can push k cotangents back
/// through the network with differentiable operations (see `EmpiricalNTK`).
package enum LayerTrace: Sendable {
    /// Dense: the layer input H [N, in] and the (effective) weight [in, out].
    case dense(input: Tensor, weight: Tensor)
    /// Conv: the input's patch matrix P [N·S, K] (S output pixels, K = kh·kw·cin), the weight
    /// reshaped to [K, cout], and the window geometry.
    case conv(patches: Tensor, weight: Tensor, geometry: WindowGeometry)
    /// ReLU: the 0/1 derivative mask (constant).
    case relu(mask: Tensor)
    /// Max-pool: the flat argmax positions within the [N, H, W, C] input.
    case maxPool(indices: [Int32], inputShape: [Int])
    case avgPool(geometry: WindowGeometry)
    /// A reshape (flatten, or an identity such as dropout at evaluation).
    case reshape(inputShape: [Int])
}

extension Model {
    /// Whether a mask keeps every weight (checked by value; stops near the first pruned entry).
    public static func isAllOnes(_ mask: Tensor) -> Bool {
        mask.scalars.withUnsafeBufferPointer { m in
            m.isEmpty || Strided.allEqual(m.baseAddress!, count: m.count, to: 1)
        }
    }

    /// Effective weights w ⊙ m (differentiable in w; masks are constants). Without masks, w.
    public static func effectiveWeights(_ params: [LayerParameters], masks: [Tensor]?) -> [Tensor] {
        guard let masks else { return params.map(\.weight) }
        precondition(masks.count == params.count, "effectiveWeights: \(masks.count) masks for \(params.count) layers")
        return zip(params, masks).map { p, m in
            precondition(p.weight.shape == m.shape, "effectiveWeights: mask shape \(m.shape) differs from weight shape \(p.weight.shape)")
            // A dense layer needs no product, unless derivatives w.r.t. the mask are wanted (NTK-SAP).
            return !m.isTracked && Model.isAllOnes(m) ? p.weight : p.weight * m
        }
    }

    /// The model's outputs [N, k] for inputs x [N, ...inputShape], with weights w ⊙ m.
    ///
    /// - Parameter dropoutSeed: when set, dropout layers are active (training) and draw their
    ///   masks from this seed; when nil, dropout is the identity.
    public func apply(_ params: [LayerParameters], masks: [Tensor]? = nil, to x: Tensor,
                      dropoutSeed: UInt64? = nil) -> Tensor {
        var noTrace: [LayerTrace]? = nil
        return forward(weights: Model.effectiveWeights(params, masks: masks), biases: params.map(\.bias),
                       x: x, dropoutSeed: dropoutSeed, trace: &noTrace)
    }

    /// Evaluation-mode forward pass with explicit (effective) weights that also returns what each
    /// layer did, for the NTK.
    package func tracedForward(weights: [Tensor], biases: [Tensor], x: Tensor) -> (output: Tensor, trace: [LayerTrace]) {
        var trace: [LayerTrace]? = []
        let y = forward(weights: weights, biases: biases, x: x, dropoutSeed: nil, trace: &trace)
        return (y, trace!)
    }

    package func forward(weights: [Tensor], biases: [Tensor], x: Tensor, dropoutSeed: UInt64?,
                  trace: inout [LayerTrace]?) -> Tensor {
        precondition(weights.count == parametrisedLayers.count && biases.count == parametrisedLayers.count,
                     "Model.forward: expected \(parametrisedLayers.count) weights and biases, got \(weights.count) and \(biases.count)")
        precondition(x.rank == inputShape.count + 1 && Array(x.shape.dropFirst()) == inputShape,
                     "Model.forward: inputs must have shape [N, \(inputShape.map(String.init).joined(separator: ", "))], got \(x.shape)")
        let n = x.shape[0]
        var h = x
        var p = 0
        // relu then maxpool equals maxpool then relu, in value and in derivative (both are exact
        // and relu is monotone: the window's first maximum is the same element whenever it is
        // positive, and the derivative is 0 otherwise either way). Untraced passes take the
        // cheaper order: relu on the pooled tensor, a quarter of the size for 2×2 windows.
        var reluAfterPool = false
        for (i, layer) in spec.layers.enumerated() {
            switch layer {
            case .dense:
                trace?.append(.dense(input: h, weight: weights[p]))
                h = Tensor.affine(h, weights[p], biases[p])
                p += 1
            case .conv(_, let k, let s, let pad):
                let shape = h.shape
                let g = WindowGeometry(batch: n, height: shape[1], width: shape[2], channels: shape[3],
                                       windowHeight: k.height, windowWidth: k.width,
                                       strideHeight: s.height, strideWidth: s.width, padding: pad)
                precondition(g.outHeight > 0 && g.outWidth > 0,
                             "Model.forward: a \(k.height)×\(k.width) window does not fit a \(shape[1])×\(shape[2]) input")
                let w = weights[p].reshaped([g.patchSize, weights[p].shape[3]])
                if trace == nil {
                    h = Tensor.convolution(h, w, biases[p], g)
                } else {
                    // The NTK needs the patch matrix itself.
                    let patches = h.patches(g)
                    trace!.append(.conv(patches: patches, weight: w, geometry: g))
                    h = Tensor.affine(patches, w, biases[p]).reshaped([n, g.outHeight, g.outWidth, w.shape[1]])
                }
                p += 1
            case .relu:
                if trace == nil, i + 1 < spec.layers.count, case .maxPool = spec.layers[i + 1] {
                    reluAfterPool = true
                    continue
                }
                if trace != nil { trace!.append(.relu(mask: h.positiveMask())) }
                h = h.relu()
            case .maxPool(let k, let s, let pad):
                let shape = h.shape
                let g = WindowGeometry(batch: n, height: shape[1], width: shape[2], channels: shape[3],
                                       windowHeight: k.height, windowWidth: k.width,
                                       strideHeight: s.height, strideWidth: s.width, padding: pad)
                let (pooled, indices) = h.maxPool(g)
                trace?.append(.maxPool(indices: indices, inputShape: shape))
                h = pooled
                if reluAfterPool { h = h.relu(); reluAfterPool = false }
            case .avgPool(let k, let s, let pad):
                let shape = h.shape
                let g = WindowGeometry(batch: n, height: shape[1], width: shape[2], channels: shape[3],
                                       windowHeight: k.height, windowWidth: k.width,
                                       strideHeight: s.height, strideWidth: s.width, padding: pad)
                trace?.append(.avgPool(geometry: g))
                h = h.avgPool(window: (k.height, k.width), strides: (s.height, s.width), padding: pad)
            case .flatten:
                trace?.append(.reshape(inputShape: h.shape))
                h = h.reshaped([n, h.count / max(n, 1)])
            case .dropout(let rate):
                if let seed = dropoutSeed, rate > 0 {
                    precondition(trace == nil, "Model.forward: dropout is not supported in a traced (NTK) pass")
                    var rng = SeededRandom(seed: seed, stream: "dropout.layers.\(i)")
                    let keep = Float(1 / (1 - rate))
                    let mask = (0..<h.count).map { _ in rng.nextUniform() < rate ? Float(0) : keep }
                    h = h * Tensor(shape: h.shape, scalars: mask)
                } else {
                    trace?.append(.reshape(inputShape: h.shape))
                }
            }
        }
        return h
    }
}
