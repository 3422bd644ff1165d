import Testing
@testable import NTTAutodiff

/// The check that matters most for NTT: the gradient of ‖J₁J₂ᵀ − K‖² for a 2-layer ReLU MLP,
/// where J are parameter Jacobians built from pullbacks (so the loss needs double backprop),
/// against central finite differences.
struct JacobianKernelGradientTests {
    static let (inputs, hidden, outputs) = (3, 4, 2)

    static func forward(_ p: [Tensor], _ x: Tensor) -> Tensor {
        Tensor.matmul((Tensor.matmul(x, p[0]) + p[1]).relu(), p[2]) + p[3]
    }

    /// Rows (sample, output), columns all parameters flattened.
    static func jacobian(_ p: [Tensor], _ x: Tensor) -> Tensor {
        let (y, pullback) = vjp(at: p) { forward($0, x) }
        let (n, k) = (y.shape[0], y.shape[1])
        var rows: [Tensor] = []
        for i in 0..<n {
            for a in 0..<k {
                var seed = [Float](repeating: 0, count: n * k)
                seed[i * k + a] = 1
                let flat = Tensor.concatenate(rows: pullback(Tensor(shape: [n, k], scalars: seed))
                                                  .map { $0.reshaped([$0.count]) })
                rows.append(flat.reshaped([1, flat.count]))
            }
        }
        return Tensor.concatenate(rows: rows)
    }

    @Test func kernelLossGradientMatchesFiniteDifferences() {
        // Draw problems until every pre-activation is ≥ 0.05 from the ReLU kink, so finite
        // differences never straddle it (deterministic: the first such seed is used).
        var params: [Tensor] = [], x1 = Tensor(0), x2 = Tensor(0)
        for base in stride(from: UInt64(0), to: 1000, by: 10) {
            params = [GradientCheck.random([Self.inputs, Self.hidden], seed: base + 1),
                      GradientCheck.random([Self.hidden], seed: base + 2, scale: 0.5),
                      GradientCheck.random([Self.hidden, Self.outputs], seed: base + 3),
                      GradientCheck.random([Self.outputs], seed: base + 4, scale: 0.5)]
            x1 = GradientCheck.random([2, Self.inputs], seed: base + 5)
            x2 = GradientCheck.random([3, Self.inputs], seed: base + 6)
            let pre = (Tensor.matmul(Tensor.concatenate(rows: [x1, x2]), params[0]) + params[1]).scalars
            if pre.allSatisfy({ abs($0) > 0.05 }) { break }
        }
        let target = GradientCheck.random([4, 6], seed: 7)
        GradientCheck.firstOrder(params, step: 5e-3, "‖J₁J₂ᵀ − K‖²") { p in
            (Tensor.matmul(Self.jacobian(p, x1), Self.jacobian(p, x2), transposeB: true) - target).squared().sum()
        }
    }
}
