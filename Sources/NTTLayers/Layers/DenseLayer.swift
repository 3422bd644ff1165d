import NTTKernels

/// y = x·W + b with W [in, units], for a flat input x [N, in]. One `affine` product: C starts as
/// the bias rows and the GEMM adds x·W. In a traced pass with a sparse mask m
/// (`LayerParameters.sparseMask`) W = w ⊙ m and the products skip the pruned entries.
///
/// NTK term (z = H W + b): Θ[(i,a),(j,b)] = (H₁H₂ᵀ + 1)[i,j] · (Δ₁Δ₂ᵀ)[(i,a),(j,b)], the `+ 1`
/// being the bias. Cost n₁n₂·in + n₁k·n₂k·out multiply-adds.
package struct DenseLayer: LayerRule {
    package var units: Int

    package init(units: Int) { self.units = units }

    package var hasParameters: Bool { true }

    package var multipliesSparseWeights: Bool { true }

    package func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int] {
        guard shape.count == 1 else {
            throw ModelSpecError("needs a flat input but gets shape \(shape); add 'flatten' before it")
        }
        return [units]
    }

    package func parameterShapes(forInput shape: [Int]) -> (weight: [Int], bias: [Int])? {
        ([shape[0], units], [units])
    }

    package func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor {
        let p = parameters!
        guard let mask = p.sparseMask else { return Tensor.affine(x, p.weight, p.bias) }
        return Tensor.maskedAffine(x, p.weight, p.bias, mask: mask)
    }

    package func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace) {
        let p = parameters!
        return (apply(x, parameters: p, position: 0, dropoutSeed: nil),
                Trace(input: x, weight: p.weight, sparseMask: p.sparseMask))
    }

    /// The layer input H [n, in] and the weight [in, out]: the effective weight W, or the raw w
    /// with the sparse mask m (W = w ⊙ m).
    package struct Trace: ParametrisedLayerTrace {
        package var input: Tensor
        package var weight: Tensor
        package var sparseMask: SparsePattern?

        /// Δ [n·k, out] as it comes.
        package func layerCotangents(_ delta: Tensor) -> Tensor { delta }

        /// Δ Wᵀ.
        package func pushCotangents(_ delta: Tensor, outputs k: Int) -> Tensor {
            guard let sparseMask else { return Tensor.matmul(delta, weight, transposeB: true) }
            return Tensor.maskedMatmul(delta, weight, transposeW: true, mask: sparseMask, classes: k)
        }

        /// [n₁, k, n₂, k]. With a mask (surviving weights only) the weight part is
        /// Θ[(i,a),(j,b)] = Σ_q Δ₁[i,a,q] Δ₂[j,b,q] Σ_p m_pq H₁[i,p] H₂[j,p].
        package func kernelTerm(_ other: Trace, _ d1: Tensor, _ d2: Tensor, outputs k: Int, mask: Tensor?,
                                contraction: ConvContraction, pooled: (PoolCotangents, PoolCotangents)?) -> Tensor {
            let h1 = input, h2 = other.input
            let n1 = h1.shape[0], n2 = h2.shape[0]
            let deltaGram = Tensor.groupedGram(d1, d2, groups: k).reshaped([n1, k, n2, k])
            guard let mask else {
                let inputGram = (Tensor.matmul(h1, h2, transposeB: true) + 1).reshaped([n1, 1, n2, 1])
                return inputGram * deltaGram
            }
            let inputs = h1.shape[1], out = d1.shape[1]
            // T[i, j, q] = Σ_p H₁[i,p] H₂[j,p] m[p,q]
            let pairs = (h1.reshaped([n1, 1, inputs]) * h2.reshaped([1, n2, inputs])).reshaped([n1 * n2, inputs])
            let t = Tensor.matmul(pairs, mask).reshaped([n1, n2, 1, out])
            // X[j, (i,a), q] = Δ₁[i,a,q] · T[i,j,q];  Θ[j, (i,a), b] = Σ_q X · Δ₂[j,b,q]
            let x = (d1.reshaped([n1, 1, k, out]) * t).permuted([1, 0, 2, 3]).reshaped([n2, n1 * k, out])
            let weightPart = Tensor.batchedMatmul(x, d2.reshaped([n2, k, out]), transposeB: true)
                .reshaped([n2, n1, k, k]).permuted([1, 2, 0, 3])
            return weightPart + deltaGram
        }
    }
}
