/// Fused, vectorisable optimiser updates on raw Float32 buffers (one pass over memory).
public enum OptimizerKernels {
    /// Adam in place: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², x ← x − a·m / (s·√v + ε), where the
    /// caller folds the bias corrections into a = η/(1−β₁ᵗ) and s = 1/√(1−β₂ᵗ).
    @inlinable
    public static func adam(_ x: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                            m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count n: Int,
                            beta1: Float, beta2: Float, stepScale a: Float, rootScale s: Float, epsilon: Float) {
        let (c1, c2) = (1 - beta1, 1 - beta2)
        // Eight lanes at a time through SIMD types (the scalar square root does not vectorise:
        // it keeps a libm call for negative inputs); the tail element by element, same formula.
        typealias V = SIMD8<Float>
        let vectorEnd = n - n % 8
        var i = 0
        while i < vectorEnd {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            let mi = beta1 * UnsafeRawPointer(m + i).loadUnaligned(as: V.self) + c1 * gi
            let vi = beta2 * UnsafeRawPointer(v + i).loadUnaligned(as: V.self) + c2 * (gi * gi)
            let xi = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: xi - a * mi / (s * vi.squareRoot() + epsilon), as: V.self)
            i += 8
        }
        while i < n {
            let gi = g[i]
            let mi = beta1 * m[i] + c1 * gi
            let vi = beta2 * v[i] + c2 * (gi * gi)
            m[i] = mi
            v[i] = vi
            x[i] -= a * mi / (s * vi.squareRoot() + epsilon)
            i += 1
        }
    }

    /// SGD with momentum in place: u ← μu + g, x ← x − ηu.
    @inlinable
    public static func momentum(_ x: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                                velocity u: UnsafeMutablePointer<Float>, count n: Int, learningRate: Float, momentum: Float) {
        for i in 0..<n {
            let ui = momentum * u[i] + g[i]
            u[i] = ui
            x[i] -= learningRate * ui
        }
    }
}
