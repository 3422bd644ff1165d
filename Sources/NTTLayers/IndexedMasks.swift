import NTTKernels

/// A model's masks, each one its layer multiplies sparsely with its kept entries listed, for the
/// traced passes of the NTK (`Model.tracedParameters`).
///
/// Listing the masks of LeNet-300-100 takes ~3% of a transfer step, and a transfer changes its
/// masks only at a re-prune: so the loop lists them once per mask update and passes the lists to
/// every step, instead of each step listing them again. A value made from the masks alone and
/// handed to the computations that use it (no process-wide memo): the same masks always give the
/// same lists, so a kernel is the same bits whether they were listed just now or steps ago.
///
/// ```swift
/// let masks = IndexedMasks(model: model, masks: MagnitudePruner.masks(weights: w, density: 0.03,
///                                                                    scope: .layerwise))
/// let theta = EmpiricalNTK.compute(model: model, parameters: p, masks: masks, x1: a, x2: b).kernel
/// ```
public struct IndexedMasks: Sendable {
    /// The masks m, one per parametrised layer, each shaped as its layer's weight.
    public let tensors: [Tensor]
    /// Per parametrised layer, the kept entries of its mask when the layer multiplies it sparsely,
    /// else nil (the layer takes w ⊙ m).
    package let patterns: [SparsePattern?]

    /// The same masks with no layer listed: every layer then takes w ⊙ m and dense products.
    /// Straight-through gradients (∂L/∂(w ⊙ m), pruned entries included) need that: a sparse
    /// product's weight gradient is cut to the kept entries.
    package var unlisted: IndexedMasks {
        IndexedMasks(tensors: tensors, patterns: tensors.map { _ in nil })
    }

    private init(tensors: [Tensor], patterns: [SparsePattern?]) {
        self.tensors = tensors
        self.patterns = patterns
    }

    /// Lists the kept entries of `masks`, one per parametrised layer of `model`. A layer's mask
    /// is listed when its rule multiplies sparse weights (`LayerRule.multipliesSparseWeights`) and
    /// the mask is a constant (untracked: not differentiated, as NTK-SAP's are) 0/1 matrix keeping
    /// at most `SparseProduct.densityThreshold` of its entries, below which skipping the pruned
    /// weights beats the dense products.
    public init(model: Model, masks: [Tensor]) {
        precondition(masks.count == model.parametrisedLayers.count,
                     "IndexedMasks: \(masks.count) masks for \(model.parametrisedLayers.count) layers")
        tensors = masks
        patterns = zip(model.parametrisedLayers, masks).map { i, m -> SparsePattern? in
            guard model.rules[i].multipliesSparseWeights, !m.isTracked, m.rank >= 2, m.count > 0 else { return nil }
            // A filter [kh, kw, cin, cout] is listed as the [kh·kw·cin, cout] matrix its products use.
            let columns = m.shape[m.rank - 1]
            return m.scalars.withUnsafeBufferPointer { buffer in
                SparsePattern(mask: buffer.baseAddress!, rows: m.count / columns, columns: columns,
                              maximumDensity: SparseProduct.densityThreshold)
            }
        }
    }
}
