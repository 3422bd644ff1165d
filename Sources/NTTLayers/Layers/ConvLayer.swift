import NTTKernels

/// y = conv(x, W) + b for an NHWC input, HWIO filter W [kh, kw, cin, filters]. Written as
/// z = P W + b with P the patch matrix [N·S, K] (S output pixels per image, K = kh·kw·cin).
///
/// Untraced passes use the chunked `convolution` op, which never builds the whole patch matrix;
/// traced passes keep P, which the NTK term needs. That term is the cheaper exact form of
///   • per-sample Jacobians J_{ia} = Pᵢᵀ Δ_{ia} ∈ ℝ^{K×cout}, Θ = J₁J₂ᵀ (+ bias Gram of Σₛ Δ);
///     cost (n₁+n₂)·S·K·k·cout + n₁k·n₂k·K·cout;
///   • patch/cotangent Grams Θ = Σ_{s,t} (P₁P₂ᵀ + 1)[(i,s),(j,t)] · (Δ₁Δ₂ᵀ)[(i,a,s),(j,b,t)];
///     cost n₁S·n₂S·K + n₁kS·n₂kS·cout.
/// When a max-pool follows the layer, Δ is the pool's adjoint of its output cotangents D (one
/// pixel per window and channel), and the Jacobians sum over the pool's W output pixels:
/// J_{ia}[p, q] = Σ_w Pᵢ[s(i,w,q), p] D_{ia}[w, q] (`pooledSampleJacobianGram`), S/W times fewer
/// multiply-adds in the Jacobians and their pullbacks.
///
/// With a sparse mask m (`LayerParameters.sparseMask`, over the filter as [K, cout]) the filter is
/// w ⊙ m and the products with it (the passes, the cotangent push and their pullbacks) skip the
/// pruned entries; the per-sample Jacobians and their Gram do not involve the filter and stay dense.
package struct ConvLayer: LayerRule {
    package var filters: Int
    package var kernel: Window
    package var stride: Window
    package var padding: Padding

    package init(filters: Int, kernel: Window, stride: Window, padding: Padding) {
        self.filters = filters; self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    package var hasParameters: Bool { true }

    package var multipliesSparseWeights: Bool { true }

    package func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int] {
        let g = try WindowGeometry.checked(perSample: shape, window: kernel, stride: stride, padding: padding)
        return [g.outHeight, g.outWidth, filters]
    }

    package func parameterShapes(forInput shape: [Int]) -> (weight: [Int], bias: [Int])? {
        ([kernel.height, kernel.width, shape[2], filters], [filters])
    }

    /// The window over x and the filter as a [K, cout] matrix.
    private func geometry(_ x: Tensor, _ weight: Tensor) -> (WindowGeometry, Tensor) {
        let g = WindowGeometry(input: x.shape, window: kernel, stride: stride, padding: padding)
        precondition(g.outHeight > 0 && g.outWidth > 0,
                     "ConvLayer: a \(kernel.height)×\(kernel.width) window does not fit a "
                        + "\(x.shape[1])×\(x.shape[2]) input")
        return (g, weight.reshaped([g.patchSize, weight.shape[3]]))
    }

    package func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor {
        let (g, w) = geometry(x, parameters!.weight)
        return Tensor.convolution(x, w, parameters!.bias, g, mask: parameters!.sparseMask)
    }

    package func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace) {
        let (g, w) = geometry(x, parameters!.weight)
        let patches = x.patches(g), mask = parameters!.sparseMask, bias = parameters!.bias
        // A sparse filter's product comes from the convolution op (image planes at stride 1,
        // chunked patches otherwise: the values of P·(w ⊙ m) + b bit for bit, without copying P
        // into lanes); P itself is kept for the NTK term's Jacobians.
        let y = mask.map { Tensor.convolution(x, w, bias, g, mask: $0) }
            ?? Tensor.affine(patches, w, bias).reshaped([g.batch, g.outHeight, g.outWidth, w.shape[1]])
        return (y, Trace(patches: patches, weight: w, geometry: g, sparseMask: mask))
    }

    /// The input's patch matrix P [n·S, K], the weight as [K, cout] (the effective weight W, or
    /// the raw w with the sparse mask m: W = w ⊙ m) and the window geometry.
    package struct Trace: ParametrisedLayerTrace {
        /// Per-sample Jacobians of up to this many floats per batch (32 MB; LeNet-5's conv2 has 8M)
        /// are formed whole and kept for the backward pass; larger ones are contracted chunk by chunk.
        static let largestHeldJacobian = 1 << 23
        /// Pooled Jacobians (`pooledSampleJacobianGram`) of up to this many floats per side (64 MB:
        /// LeNet-5's conv2 8M, Conv-4's conv2 11.8M, not its conv4's 47M) are kept from the kernel
        /// for the backward pass instead of being built a second time there.
        static let largestKeptPooledJacobian = 1 << 24
        /// The largest rearranged copy of Δ (floats per batch, 64 MB) made to save GEMM calls.
        static let largestHeldCopy = 1 << 24

        package var patches: Tensor
        package var weight: Tensor
        package var geometry: WindowGeometry
        package var sparseMask: SparsePattern? = nil

        /// Δ as [n·k·S, cout], rows (sample, output, pixel).
        package func layerCotangents(_ delta: Tensor) -> Tensor {
            delta.reshaped([delta.count / weight.shape[1], weight.shape[1]])
        }

        /// col2im(Δ Wᵀ) over the n·k cotangent images, chunk by chunk (`convolutionTranspose`).
        package func pushCotangents(_ delta: Tensor, outputs k: Int) -> Tensor {
            Tensor.convolutionTranspose(layerCotangents(delta), weight, geometry.withBatch(geometry.batch * k),
                                        mask: sparseMask)
        }

        /// [n₁, k, n₂, k]. With a mask (surviving weights only) the per-sample Jacobians are masked:
        /// (J₁ ⊙ m) J₂ᵀ.
        package func kernelTerm(_ other: Trace, _ d1: Tensor, _ d2: Tensor, outputs k: Int, mask: Tensor?,
                                contraction: ConvContraction, pooled: (PoolCotangents, PoolCotangents)?) -> Tensor {
            let p1 = patches, p2 = other.patches
            let n1 = geometry.batch, n2 = other.geometry.batch
            let s = geometry.outHeight * geometry.outWidth, kk = geometry.patchSize, cout = weight.shape[1]
            // A max-pool right after the layer: the Jacobians sum over its W output pixels only
            // (unless the kernel is restricted to surviving weights, which masks whole Jacobians).
            let outputShape = [geometry.outHeight, geometry.outWidth, cout]
            let pooled = mask == nil ? pooled.flatMap { p in
                Array(p.0.inputShape.dropFirst()) == outputShape && Array(p.1.inputShape.dropFirst()) == outputShape
                    && p.0.inputShape[0] == n1 && p.1.inputShape[0] == n2 && p.0.pooledPixels == p.1.pooledPixels
                    ? p : nil
            } : nil
            let jacobianPixels = pooled?.0.pooledPixels ?? s
            // Multiply-adds of each exact form (see the type's documentation).
            let jacobianCost = (n1 + n2) * jacobianPixels * kk * k * cout + n1 * k * n2 * k * (kk + 1) * cout
            let patchCost = n1 * s * n2 * s * kk + n1 * k * s * n2 * k * s * cout
            let useJacobians: Bool
            switch contraction {
            case .automatic: useJacobians = jacobianCost <= patchCost
            case .jacobian: useJacobians = true
            case .patch: useJacobians = false
            }
            // Per-sample Jacobians J[(i,a), (p,q)] = Σ_s P[i,s,p] Δ[i,a,s,q], rows in (sample, output)
            // order. Small Jacobians (K·cout ≤ 4096, e.g. a first conv layer) come from one GEMM per
            // sample, Pᵢᵀ·Δᵢ with Δᵢ as [S, k·cout], then a cheap transpose of the small result, unless
            // that copy of Δ would be large (Conv-4's first layer: 74 MB per batch, kept for the
            // backward pass); others from k GEMMs per sample that write each row block in place.
            func jacobians(_ p: Tensor, _ d: Tensor, _ n: Int) -> Tensor {
                if kk * cout <= 4096 && d.count <= Self.largestHeldCopy {
                    let dd = d.reshaped([n, k, s, cout]).permuted([0, 2, 1, 3]).reshaped([n, s, k * cout])
                    return Tensor.batchedMatmul(p.reshaped([n, s, kk]), transposeA: true, dd)
                        .reshaped([n, kk, k, cout]).permuted([0, 2, 1, 3]).reshaped([n * k, kk * cout])
                }
                let shape = SampleJacobianShape(samples: n, outputs: k, pixels: s, patchSize: kk, channels: cout)
                return Tensor.sampleJacobians(patches: p, cotangents: d, shape)
            }
            if let pooled, useJacobians {
                // Σ over the pool's pixels: W of S per Jacobian (`pooledSampleJacobianGram`), chunk
                // by chunk as below, whatever the Jacobians' size (rebuilding a chunk in the
                // pullback costs a quarter of a dense pass for 2×2 windows); the bias part sums D.
                let w = pooled.0.pooledPixels
                func shape(_ n: Int) -> SampleJacobianShape {
                    SampleJacobianShape(samples: n, outputs: k, pixels: s, patchSize: kk, channels: cout)
                }
                let weightPart = Tensor.pooledSampleJacobianGram(
                    PooledJacobianSide(patches: p1, pooledCotangents: pooled.0.values, argmax: pooled.0.argmax),
                    shape(n1),
                    PooledJacobianSide(patches: p2, pooledCotangents: pooled.1.values, argmax: pooled.1.argmax),
                    shape(n2), pooled: w, keepJacobians: max(n1, n2) * k * kk * cout <= Self.largestKeptPooledJacobian)
                let b1 = pooled.0.values.reshaped([n1 * k, w, cout]).sum(alongAxes: [1])
                let b2 = pooled.1.values.reshaped([n2 * k, w, cout]).sum(alongAxes: [1])
                return (weightPart + Tensor.matmul(b1, b2, transposeB: true)).reshaped([n1, k, n2, k])
            }
            if mask != nil || useJacobians {
                let weightPart: Tensor
                if mask == nil && max(n1, n2) * k * kk * cout > Self.largestHeldJacobian {
                    // Large Jacobians (Conv-4's last three layers: 47, 94, 189 MB per batch of 32)
                    // are never held: their Gram goes chunk by chunk over patch entries, and its
                    // pullback rebuilds the chunks (one more Jacobian pass per side, S·K·c per row,
                    // S/(n₂k) of the Gram's n₂k·K·c: 0.3–2.5 on Conv-4; no slower step measured).
                    func shape(_ n: Int) -> SampleJacobianShape {
                        SampleJacobianShape(samples: n, outputs: k, pixels: s, patchSize: kk, channels: cout)
                    }
                    weightPart = Tensor.sampleJacobianGram(p1, d1, shape(n1), p2, d2, shape(n2))
                } else {
                    var j1 = jacobians(p1, d1, n1)
                    let j2 = jacobians(p2, d2, n2)
                    if let mask { j1 = j1 * mask.reshaped([1, kk * cout]) }
                    weightPart = Tensor.matmul(j1, j2, transposeB: true)
                }
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
}
