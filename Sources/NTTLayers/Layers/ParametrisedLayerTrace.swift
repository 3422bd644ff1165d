/// The trace of a layer that owns a weight and a bias: it also gives that layer's term of the
/// NTK, Θ_l = J_l(x₁) J_l(x₂)ᵀ over its own parameters, from the traces of both batches and the
/// cotangents Δ at the layer's pre-activation (Novak et al., ICML 2022, "structured derivatives").
package protocol ParametrisedLayerTrace: LayerTrace {
    /// Δ at the layer's output in the layout `kernelTerm` and `pushCotangents` expect.
    func layerCotangents(_ delta: Tensor) -> Tensor

    /// The layer's kernel term [n₁, k, n₂, k] (rows (i, a), columns (j, b)) for this trace (x₁)
    /// and `other` (x₂) with their `layerCotangents` d1, d2.
    ///
    /// - Parameters:
    ///   - mask: when set, the weight part sums over unpruned entries only (m = 1): the kernel
    ///     of the surviving weights (`KernelScope.surviving`).
    ///   - contraction: which exact form a conv layer uses.
    ///   - pooled: when the layer's output goes straight into a max-pool, the cotangents at the
    ///     pool's output for both batches (d1, d2 are their scatter through the pool).
    func kernelTerm(_ other: Self, _ d1: Tensor, _ d2: Tensor, outputs k: Int, mask: Tensor?,
                    contraction: ConvContraction, pooled: (PoolCotangents, PoolCotangents)?) -> Tensor
}

extension ParametrisedLayerTrace {
    /// `kernelTerm` with the x₂ trace as an existential (both traces come from the same layer).
    package func kernelTerm(pairedWith other: any LayerTrace, _ d1: Tensor, _ d2: Tensor, outputs k: Int,
                            mask: Tensor?, contraction: ConvContraction,
                            pooled: (PoolCotangents, PoolCotangents)? = nil) -> Tensor {
        guard let other = other as? Self else {
            preconditionFailure("kernelTerm: traces of different layers (\(Self.self), \(type(of: other)))")
        }
        return kernelTerm(other, d1, d2, outputs: k, mask: mask, contraction: contraction, pooled: pooled)
    }
}
