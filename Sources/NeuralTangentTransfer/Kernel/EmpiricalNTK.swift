import NTTKernels
import NTTLayers

/// The empirical neural tangent kernel Θ(x₁, x₂) = J(x₁) J(x₂)ᵀ, computed exactly without
/// forming the full Jacobian, with differentiable operations (so a loss on Θ can be
/// differentiated with respect to the parameters).
///
/// The k output cotangents are pushed back through the network at once, as a batch of n·k rows
/// ordered (sample, output): Δ_l[(i,a)] = ∂f_a(xᵢ)/∂z_l for the pre-activation z_l of each
/// parametrised layer l. Then, per layer (Novak et al., ICML 2022, "structured derivatives"):
///
/// - dense z = H W + b:  Θ_l[i,j,a,b] = (H₁H₂ᵀ + 1)[i,j] · (Δ₁Δ₂ᵀ)[(i,a),(j,b)]
///   (the `+ 1` is the bias). Cost n₁n₂·in + n₁k·n₂k·out.
/// - conv z = P W + b (P the patch matrix, S output pixels per image), the cheaper of
///   • per-sample Jacobians J_{ia} = Pᵢᵀ Δ_{ia} ∈ ℝ^{K×cout}, Θ = J₁J₂ᵀ (+ bias Gram of Σₛ Δ);
///     cost (n₁+n₂)·S·K·k·cout + n₁k·n₂k·K·cout;
///   • patch/cotangent Grams Θ = Σ_{s,t} (P₁P₂ᵀ + 1)[(i,s),(j,t)] · (Δ₁Δ₂ᵀ)[(i,a,s),(j,b,t)];
///     cost n₁S·n₂S·K + n₁kS·n₂kS·cout.
///
/// With `KernelScope.surviving` the weight part only sums over unpruned entries (m = 1):
/// dense Θ = Σ_q Δ₁[i,a,q] Δ₂[j,b,q] Σ_p m_pq H₁[i,p] H₂[j,p]; conv uses masked per-sample
/// Jacobians (J₁ ⊙ m) J₂ᵀ.
public enum EmpiricalNTK {
    /// The kernel [n₁, n₂, k, k] and the outputs on both batches.
    public struct Result: Sendable {
        public var kernel: Tensor
        public var outputs1: Tensor
        public var outputs2: Tensor
    }

    /// How conv layers are contracted; `automatic` picks the one with fewer FLOPs.
    public enum ConvContraction: String, Sendable, CaseIterable {
        case automatic, jacobian, patch
    }

    /// Kernel between batches x₁ [n₁, …] and x₂ [n₂, …] of the model with weights w ⊙ m.
    ///
    /// - Parameter effectiveWeights: w ⊙ m if the caller has it already (it must be
    ///   `Model.effectiveWeights(parameters, masks: masks)`); computed here otherwise.
    public static func compute(model: Model, parameters: [LayerParameters], masks: [Tensor]?,
                               x1: Tensor, x2: Tensor, scope: KernelScope = .effective,
                               convContraction: ConvContraction = .automatic,
                               effectiveWeights: [Tensor]? = nil) -> Result {
        let weights = effectiveWeights ?? Model.effectiveWeights(parameters, masks: masks)
        precondition(weights.count == parameters.count, "EmpiricalNTK.compute: \(weights.count) effective weights for \(parameters.count) layers")
        let biases = parameters.map(\.bias)
        let k = model.outputCount
        let (y1, trace1) = model.tracedForward(weights: weights, biases: biases, x: x1)
        let (y2, trace2) = model.tracedForward(weights: weights, biases: biases, x: x2)
        let deltas1 = cotangents(trace1, samples: x1.shape[0], outputs: k)
        let deltas2 = cotangents(trace2, samples: x2.shape[0], outputs: k)
        let n1 = x1.shape[0], n2 = x2.shape[0]
        var total: Tensor? = nil
        var layer = 0
        for (step1, step2) in zip(trace1, trace2) {
            let mask = (scope == .surviving) ? masks?[layer] : nil
            let term: Tensor
            switch (step1, step2) {
            case let (.dense(h1, _), .dense(h2, _)):
                term = denseTerm(h1, h2, deltas1[layer], deltas2[layer], k: k, mask: mask)
            case let (.conv(p1, w, g1), .conv(p2, _, _)):
                term = convTerm(p1, p2, deltas1[layer], deltas2[layer], n1: n1, n2: n2, k: k,
                                pixels: g1.outHeight * g1.outWidth, cout: w.shape[1], mask: mask,
                                patchSize: g1.patchSize, contraction: convContraction)
            default: continue
            }
            total = total.map { $0 + term } ?? term
            layer += 1
        }
        // [n₁, k, n₂, k] → [n₁, n₂, k, k]
        let kernel = total!.reshaped([n1, k, n2, k]).permuted([0, 2, 1, 3])
        return Result(kernel: kernel, outputs1: y1, outputs2: y2)
    }

    /// Δ for every parametrised layer, in order: [n·k, out] (dense) or [n·k·S, cout] (conv),
    /// rows ordered (sample, output[, pixel]).
    static func cotangents(_ trace: [LayerTrace], samples n: Int, outputs k: Int) -> [Tensor] {
        // Start from the identity: row (i, a) is the one-hot cotangent e_a for sample i.
        var eye = [Float](repeating: 0, count: n * k * k)
        for i in 0..<n { for a in 0..<k { eye[(i * k + a) * k + a] = 1 } }
        var delta = Tensor(shape: [n * k, k], scalars: eye)
        var result: [Tensor] = []
        for (position, step) in trace.enumerated().reversed() {
            let isFirst = position == 0
            switch step {
            case .dense(_, let w):
                result.append(delta)
                if !isFirst { delta = Tensor.matmul(delta, w, transposeB: true) }
            case .conv(_, let w, let g):
                let flat = delta.reshaped([delta.count / w.shape[1], w.shape[1]])
                result.append(flat)
                if !isFirst {
                    delta = Tensor.matmul(flat, w, transposeB: true).patchesAdjoint(g.withBatch(n * k))
                }
            case .relu(let mask):
                delta = delta * repeatRows(mask, k)
            case .maxPool(let indices, let inputShape):
                // Row (i, a) scatters through sample i's argmax positions.
                let layout = Pooling.ArgmaxLayout(images: n, imageSize: inputShape.dropFirst().reduce(1, *),
                                                  outPerImage: indices.count / n, repeats: k)
                delta = delta.maxPoolAdjoint(indices, layout).reshaped([n * k] + inputShape.dropFirst())
            case .avgPool(let g):
                delta = delta.avgPoolAdjoint(g.withBatch(n * k))
            case .reshape(let inputShape):
                delta = delta.reshaped([n * k] + inputShape.dropFirst())
            }
        }
        return result.reversed()
    }

    /// Each sample's row repeated k times: [n, …] → [n·k, …] (a constant).
    static func repeatRows(_ x: Tensor, _ k: Int) -> Tensor {
        let n = x.shape[0], rest = Array(x.shape.dropFirst())
        return x.reshaped([n, 1] + rest).broadcast(to: [n, k] + rest).reshaped([n * k] + rest)
    }

    /// Dense layer term, [n₁·k, n₂·k] laid out as [n₁, k, n₂, k].
    static func denseTerm(_ h1: Tensor, _ h2: Tensor, _ d1: Tensor, _ d2: Tensor, k: Int, mask: Tensor?) -> Tensor {
        let n1 = h1.shape[0], n2 = h2.shape[0]
        let deltaGram = Tensor.matmul(d1, d2, transposeB: true).reshaped([n1, k, n2, k])
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

    /// Conv layer term, [n₁, k, n₂, k].
    static func convTerm(_ p1: Tensor, _ p2: Tensor, _ d1: Tensor, _ d2: Tensor, n1: Int, n2: Int, k: Int,
                         pixels s: Int, cout: Int, mask: Tensor?, patchSize kk: Int,
                         contraction: ConvContraction) -> Tensor {
        // Multiply-adds of each exact form (see the type's documentation).
        let jacobianCost = (n1 + n2) * s * kk * k * cout + n1 * k * n2 * k * (kk + 1) * cout
        let patchCost = n1 * s * n2 * s * kk + n1 * k * s * n2 * k * s * cout
        let useJacobians: Bool
        switch contraction {
        case .automatic: useJacobians = jacobianCost <= patchCost
        case .jacobian: useJacobians = true
        case .patch: useJacobians = false
        }
        // Per-sample Jacobians J[(i,a), (p,q)] = Σ_s P[i,s,p] Δ[i,a,s,q], rows in (sample, output)
        // order. Small Jacobians (K·cout ≤ 4096, e.g. a first conv layer) come from one GEMM per
        // sample, Pᵢᵀ·Δᵢ with Δᵢ as [S, k·cout], then a cheap transpose of the small result; large
        // ones from k GEMMs per sample that write each row block in place (no large transpose).
        func jacobians(_ p: Tensor, _ d: Tensor, _ n: Int) -> Tensor {
            if kk * cout <= 4096 {
                let dd = d.reshaped([n, k, s, cout]).permuted([0, 2, 1, 3]).reshaped([n, s, k * cout])
                return Tensor.batchedMatmul(p.reshaped([n, s, kk]), transposeA: true, dd)
                    .reshaped([n, kk, k, cout]).permuted([0, 2, 1, 3]).reshaped([n * k, kk * cout])
            }
            return Tensor.sampleJacobians(patches: p, cotangents: d,
                                          SampleJacobianShape(samples: n, outputs: k, pixels: s, patchSize: kk, channels: cout))
        }
        if mask != nil || useJacobians {
            var j1 = jacobians(p1, d1, n1)
            let j2 = jacobians(p2, d2, n2)
            if let mask { j1 = j1 * mask.reshaped([1, kk * cout]) }
            let weightPart = Tensor.matmul(j1, j2, transposeB: true)
            // Bias part: Gram of Σ_s Δ (rows (i, a, s)).
            let b1 = d1.reshaped([n1 * k, s, cout]).sum(alongAxes: [1])
            let b2 = d2.reshaped([n2 * k, s, cout]).sum(alongAxes: [1])
            return (weightPart + Tensor.matmul(b1, b2, transposeB: true)).reshaped([n1, k, n2, k])
        }
        let patchGram = (Tensor.matmul(p1, p2, transposeB: true) + 1).reshaped([n1, 1, s, n2, 1, s])
        let deltaGram = Tensor.matmul(d1, d2, transposeB: true).reshaped([n1, k, s, n2, k, s])
        return (patchGram * deltaGram).sum(alongAxes: [2, 5])
    }
}
