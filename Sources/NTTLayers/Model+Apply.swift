import NTTKernels

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
        return zip(params, masks).map { effectiveWeight($0.weight, mask: $1) }
    }

    /// w ⊙ m for one layer.
    static func effectiveWeight(_ w: Tensor, mask m: Tensor) -> Tensor {
        precondition(w.shape == m.shape, "effectiveWeights: mask shape \(m.shape) differs from weight shape \(w.shape)")
        // A dense layer needs no product, unless derivatives w.r.t. the mask are wanted (NTK-SAP).
        return !m.isTracked && Model.isAllOnes(m) ? w : w * m
    }

    /// The model's outputs [N, k] for inputs x [N, ...inputShape], with weights w ⊙ m.
    ///
    /// - Parameter dropoutSeed: when set, dropout layers are active (training) and draw their
    ///   masks from this seed; when nil, dropout is the identity.
    public func apply(_ params: [LayerParameters], masks: [Tensor]? = nil, to x: Tensor,
                      dropoutSeed: UInt64? = nil) -> Tensor {
        apply(weights: Model.effectiveWeights(params, masks: masks), biases: params.map(\.bias), to: x,
              dropoutSeed: dropoutSeed)
    }

    /// The outputs with weights w ⊙ m for masks listed beforehand (`IndexedMasks`): the layers
    /// whose masks are listed skip their pruned weights (`tracedParameters`), the others take
    /// w ⊙ m. The same values as `apply(_:masks:to:)` up to the order of the additions, and the
    /// weights' gradient is zero at pruned entries in both.
    public func apply(_ params: [LayerParameters], masks: IndexedMasks, to x: Tensor,
                      dropoutSeed: UInt64? = nil) -> Tensor {
        apply(layers: tracedParameters(params, masks: masks), to: x, dropoutSeed: dropoutSeed)
    }

    /// The outputs with explicit (effective) weights, one rule after another.
    ///
    /// A relu followed by a layer that commutes with it (max-pool) runs after that layer instead:
    /// the same bits in value and derivative on a smaller tensor (`LayerRule.commutesWithReLU`).
    public func apply(weights: [Tensor], biases: [Tensor], to x: Tensor, dropoutSeed: UInt64? = nil) -> Tensor {
        apply(layers: [LayerParameters](weights: weights, biases: biases), to: x, dropoutSeed: dropoutSeed)
    }

    /// The outputs with each layer's parameters as given (an effective weight, or a raw weight
    /// with a sparse mask).
    private func apply(layers parameters: [LayerParameters], to x: Tensor, dropoutSeed: UInt64?) -> Tensor {
        let weights = parameters.map(\.weight), biases = parameters.map(\.bias)
        checkArguments(weights: weights, biases: biases, x: x)
        var h = x
        var p = 0
        var reluDeferred = false
        for (i, rule) in rules.enumerated() {
            if runsAfterNextRule(i) {
                reluDeferred = true
                continue
            }
            var layerParameters: LayerParameters? = nil
            if rule.hasParameters {
                layerParameters = parameters[p]
                p += 1
            }
            h = rule.apply(h, parameters: layerParameters, position: i, dropoutSeed: dropoutSeed)
            if reluDeferred { h = h.relu(); reluDeferred = false }
        }
        return h
    }

    /// Evaluation-mode outputs with explicit (effective) weights, and what each layer did (one
    /// trace per layer), for the NTK. Layers run in the written order, except that a relu
    /// followed by a layer that commutes with it (max-pool) runs after that layer, as in `apply`,
    /// and its trace follows that layer's: the cotangent push then multiplies by the relu's mask
    /// on the pooled size (a quarter for 2×2 windows) before scattering, instead of on the full
    /// size after. The same values; zeros may differ in sign where the window's maximum is ≤ 0.
    package func tracedApply(weights: [Tensor], biases: [Tensor], to x: Tensor)
        -> (output: Tensor, traces: [any LayerTrace]) {
        tracedApply([LayerParameters](weights: weights, biases: biases), to: x)
    }

    /// `tracedApply` with each layer's parameters as `tracedParameters` gives them (effective
    /// weights, or raw weights with sparse masks).
    package func tracedApply(_ parameters: [LayerParameters], to x: Tensor)
        -> (output: Tensor, traces: [any LayerTrace]) {
        checkArguments(weights: parameters.map(\.weight), biases: parameters.map(\.bias), x: x)
        var h = x
        var p = 0
        var traces: [any LayerTrace] = []
        var reluDeferred = false
        for (i, rule) in rules.enumerated() {
            if runsAfterNextRule(i) {
                reluDeferred = true
                continue
            }
            var layerParameters: LayerParameters? = nil
            if rule.hasParameters {
                layerParameters = parameters[p]
                p += 1
            }
            let (y, trace) = rule.tracedApply(h, parameters: layerParameters)
            traces.append(trace)
            h = y
            if reluDeferred {
                let (activated, reluTrace) = ReLULayer().tracedApply(h, parameters: nil)
                traces.append(reluTrace)
                h = activated
                reluDeferred = false
            }
        }
        return (h, traces)
    }

    /// The parameters of a traced pass with weights w ⊙ m. A layer whose mask has its kept
    /// entries listed (`IndexedMasks`: a constant 0/1 mask no denser than
    /// `SparseProduct.densityThreshold` of a layer that multiplies sparse weights) gets its raw w
    /// and those lists: its products then skip the pruned weights (the same values up to rounding,
    /// at a fraction of the cost). The others get w ⊙ m (`effectiveWeights`, or the caller's copy
    /// of it). The caller lists the masks, once per mask update in a loop.
    package func tracedParameters(_ params: [LayerParameters], masks: IndexedMasks?,
                                  effectiveWeights: [Tensor]? = nil) -> [LayerParameters] {
        guard let masks else { return params }
        let tensors = masks.tensors, patterns = masks.patterns
        precondition(tensors.count == params.count,
                     "tracedParameters: \(tensors.count) masks for \(params.count) layers")
        return params.indices.map { l in
            guard let pattern = patterns[l] else {
                let weight = effectiveWeights?[l] ?? Model.effectiveWeight(params[l].weight, mask: tensors[l])
                return LayerParameters(weight: weight, bias: params[l].bias)
            }
            precondition(params[l].weight.shape == tensors[l].shape, "tracedParameters: mask shape "
                         + "\(tensors[l].shape) differs from weight shape \(params[l].weight.shape)")
            return LayerParameters(weight: params[l].weight, bias: params[l].bias, sparseMask: pattern)
        }
    }

    private func checkArguments(weights: [Tensor], biases: [Tensor], x: Tensor) {
        let count = parametrisedLayers.count
        precondition(weights.count == count && biases.count == count,
                     "Model.apply: expected \(count) weights and biases, got \(weights.count) and \(biases.count)")
        precondition(x.rank == inputShape.count + 1 && Array(x.shape.dropFirst()) == inputShape,
                     "Model.apply: inputs must have shape [N] + \(inputShape), got \(x.shape)")
    }

    /// Whether rule i is a relu that runs after the rule that follows it, which commutes with it
    /// (`LayerRule.commutesWithReLU`): the same bits on a smaller tensor. Both model loops ask.
    private func runsAfterNextRule(_ i: Int) -> Bool {
        rules[i] is ReLULayer && i + 1 < rules.count && rules[i + 1].commutesWithReLU
    }
}
