import NTTLayers

/// The empirical NTK the plain way: per-sample Jacobians over every parameter, by reverse mode
/// with one-hot output cotangents, then Θ = J₁J₂ᵀ. Memory and time grow with the parameter
/// count times n·k, so this is the reference that `EmpiricalNTK` is tested against, not a tool
/// for real networks.
public enum JacobianNTK {
    /// Jacobian rows [n·k, P] ordered (sample, output); columns are every weight entry then every
    /// bias entry, layer by layer. `effective`: w.r.t. w ⊙ m; `surviving`: w.r.t. raw w of f(w ⊙ m).
    public static func jacobian(model: Model, parameters: [LayerParameters], masks: [Tensor]?,
                                x: Tensor, scope: KernelScope) -> Tensor {
        let layers = parameters.count
        let weights = scope == .effective ? Model.effectiveWeights(parameters, masks: masks) : parameters.map(\.weight)
        let (y, pullback) = vjp(at: weights + parameters.map(\.bias)) { v in
            let w = Array(v[0..<layers]), b = Array(v[layers...])
            let used = (scope == .surviving && masks != nil) ? zip(w, masks!).map { $0 * $1 } : w
            return model.apply(weights: used, biases: b, to: x)
        }
        let n = y.shape[0], k = y.shape[1]
        var rows: [Tensor] = []
        for i in 0..<n {
            for a in 0..<k {
                var seed = [Float](repeating: 0, count: n * k)
                seed[i * k + a] = 1
                let grads = pullback(Tensor(shape: [n, k], scalars: seed))
                let flat = Tensor.concatenate(rows: grads.map { $0.reshaped([$0.count]) })
                rows.append(flat.reshaped([1, flat.count]))
            }
        }
        return Tensor.concatenate(rows: rows)
    }

    /// Θ [n₁, n₂, k, k] = J(x₁) J(x₂)ᵀ.
    public static func compute(model: Model, parameters: [LayerParameters], masks: [Tensor]?,
                               x1: Tensor, x2: Tensor, scope: KernelScope = .effective) -> Tensor {
        let j1 = jacobian(model: model, parameters: parameters, masks: masks, x: x1, scope: scope)
        let j2 = jacobian(model: model, parameters: parameters, masks: masks, x: x2, scope: scope)
        let k = model.outputCount
        return Tensor.matmul(j1, j2, transposeB: true)
            .reshaped([x1.shape[0], k, x2.shape[0], k]).permuted([0, 2, 1, 3])
    }
}
