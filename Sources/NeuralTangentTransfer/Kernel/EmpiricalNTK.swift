import NTTKernels
import NTTLayers

/// The empirical neural tangent kernel Θ(x₁, x₂) = J(x₁) J(x₂)ᵀ, computed exactly without
/// forming the full Jacobian, with differentiable operations (so a loss on Θ can be
/// differentiated with respect to the parameters).
///
/// The k output cotangents are pushed back through the network at once, as a batch of n·k rows
/// ordered (sample, output): Δ_l[(i,a)] = ∂f_a(xᵢ)/∂z_l for the pre-activation z_l of each
/// parametrised layer l, each layer's trace pushing them through that layer
/// (`LayerTrace.pushCotangents`). Then Θ = Σ_l Θ_l, each parametrised layer giving its own term
/// in its cheapest exact form (Novak et al., ICML 2022, "structured derivatives"; the formulas
/// sit with each layer: `DenseLayer`, `ConvLayer`).
///
/// With `KernelScope.surviving` each weight part only sums over unpruned entries (m = 1).
public enum EmpiricalNTK {
    /// The kernel [n₁, n₂, k, k] and the outputs on both batches.
    public struct Result: Sendable {
        public var kernel: Tensor
        public var outputs1: Tensor
        public var outputs2: Tensor
    }

    /// How conv layers are contracted; `automatic` picks the one with fewer FLOPs.
    public typealias ConvContraction = NTTLayers.ConvContraction

    /// Kernel between batches x₁ [n₁, …] and x₂ [n₂, …] of the model with weights w ⊙ m.
    ///
    /// Lists the masks' kept entries for this call; a loop that computes many kernels with the
    /// same masks lists them once and passes them (`compute(model:parameters:masks:…)` with
    /// `IndexedMasks`): the same kernel, without listing them again.
    ///
    /// - Parameter effectiveWeights: w ⊙ m if the caller has it already (it must be
    ///   `Model.effectiveWeights(parameters, masks: masks)`); computed here otherwise.
    public static func compute(model: Model, parameters: [LayerParameters], masks: [Tensor]?,
                               x1: Tensor, x2: Tensor, scope: KernelScope = .effective,
                               convContraction: ConvContraction = .automatic,
                               effectiveWeights: [Tensor]? = nil) -> Result {
        let listed = masks.map { IndexedMasks(model: model, masks: $0) }
        return compute(model: model, parameters: parameters, listedMasks: listed, x1: x1, x2: x2, scope: scope,
                       convContraction: convContraction, effectiveWeights: effectiveWeights)
    }

    /// Kernel between x₁ and x₂ of the model with weights w ⊙ m, for masks listed beforehand.
    ///
    /// - Parameter effectiveWeights: w ⊙ m if the caller has it already (it must be
    ///   `Model.effectiveWeights(parameters, masks: masks.tensors)`); computed here otherwise.
    public static func compute(model: Model, parameters: [LayerParameters], masks: IndexedMasks,
                               x1: Tensor, x2: Tensor, scope: KernelScope = .effective,
                               convContraction: ConvContraction = .automatic,
                               effectiveWeights: [Tensor]? = nil) -> Result {
        compute(model: model, parameters: parameters, listedMasks: masks, x1: x1, x2: x2, scope: scope,
                convContraction: convContraction, effectiveWeights: effectiveWeights)
    }

    private static func compute(model: Model, parameters: [LayerParameters], listedMasks masks: IndexedMasks?,
                                x1: Tensor, x2: Tensor, scope: KernelScope, convContraction: ConvContraction,
                                effectiveWeights: [Tensor]?) -> Result {
        precondition(effectiveWeights == nil || effectiveWeights!.count == parameters.count,
                     "EmpiricalNTK.compute: \(effectiveWeights!.count) effective weights for "
                     + "\(parameters.count) layers")
        // One set of traced parameters (raw or effective weights) for both batches.
        let layers = model.tracedParameters(parameters, masks: masks, effectiveWeights: effectiveWeights)
        let k = model.outputCount
        // Each batch's pass and cotangent push (side by side with two threads, for small models).
        func traced(_ x: Tensor) -> (outputs: Tensor, traces: [any LayerTrace], deltas: [LayerCotangents]) {
            let (y, traces) = model.tracedApply(layers, to: x)
            return (y, traces, cotangents(traces, samples: x.shape[0], outputs: k))
        }
        let ((y1, traces1, deltas1), (y2, traces2, deltas2)) = sideBySide(model, samples: x1.shape[0] + x2.shape[0])
            ? Threads.overlapping({ traced(x1) }, { traced(x2) }) : (traced(x1), traced(x2))
        var total: Tensor? = nil
        var layer = 0
        for (trace1, trace2) in zip(traces1, traces2) {
            guard let trace1 = trace1 as? any ParametrisedLayerTrace else { continue }
            let mask = (scope == .surviving) ? masks?.tensors[layer] : nil
            let (d1, d2) = (deltas1[layer], deltas2[layer])
            let pooled = d1.pooled.flatMap { p1 in d2.pooled.map { (p1, $0) } }
            let term = trace1.kernelTerm(pairedWith: trace2, d1.delta, d2.delta, outputs: k,
                                         mask: mask, contraction: convContraction, pooled: pooled)
            // term + total (the same sums as total + term): the backward pass then visits the
            // first layer's term first and each layer's cotangent push right after the term that
            // uses it, so the gradients of each layer's Δ are consumed before the next layer's
            // are formed instead of all of them being alive at once (Conv-4: hundreds of MB).
            total = total.map { term + $0 } ?? term
            layer += 1
        }
        // [n₁, k, n₂, k] → [n₁, n₂, k, k]
        let kernel = total!.reshaped([x1.shape[0], k, x2.shape[0], k]).permuted([0, 2, 1, 3])
        return Result(kernel: kernel, outputs1: y1, outputs2: y2)
    }

    /// Whether two computations of this model's kernel on `samples` inputs in all (its two batches,
    /// or a teacher's kernel and a student's) run side by side (`Threads.overlapping`): when the
    /// cotangents of their traced passes, k rows per sample through every layer, are at most 2²²
    /// floats (16 MB). Their products are too small to cut well in two (LeNet-300-100, 64 inputs:
    /// 1.0M floats, teacher and student 2.0M; the transfer step 1.10× faster with two threads, the
    /// NTK's best runs 1.15×); larger ones are cut well, and side by side gained nothing on
    /// LeNet-5 (16M floats, 32M) while holding both sides' intermediate results at once (+170 MB
    /// per step). Decided by the shapes only.
    static func sideBySide(_ model: Model, samples: Int) -> Bool {
        let perSample = model.layerOutputShapes.reduce(model.inputShape.reduce(1, *)) { $0 + $1.reduce(1, *) }
        return Double(samples) * Double(model.outputCount) * Double(perSample) <= Double(1 << 22)
    }

    /// A parametrised layer's Δ and, when a max-pool follows it directly, the pool's cotangents.
    struct LayerCotangents {
        var delta: Tensor
        var pooled: PoolCotangents?
    }

    /// Δ for every parametrised layer, in order, in the layout its trace gives
    /// (`ParametrisedLayerTrace.layerCotangents`), rows ordered (sample, output[, pixel]); for a
    /// layer followed by a max-pool also the cotangents at the pool's output.
    static func cotangents(_ traces: [any LayerTrace], samples n: Int, outputs k: Int) -> [LayerCotangents] {
        // Start from the identity: row (i, a) is the one-hot cotangent e_a for sample i.
        var eye = [Float](repeating: 0, count: n * k * k)
        for i in 0..<n { for a in 0..<k { eye[(i * k + a) * k + a] = 1 } }
        var delta = Tensor(shape: [n * k, k], scalars: eye)
        var result: [LayerCotangents] = []
        var pooled: PoolCotangents? = nil
        for (position, trace) in traces.enumerated().reversed() {
            if let trace = trace as? any ParametrisedLayerTrace {
                delta = trace.layerCotangents(delta)
                result.append(LayerCotangents(delta: delta, pooled: pooled))
            }
            pooled = (trace as? MaxPoolLayer.Trace)?.poolCotangents(delta)
            // The first layer's input cotangent is not needed.
            if position > 0 { delta = trace.pushCotangents(delta, outputs: k) }
        }
        return result.reversed()
    }
}
