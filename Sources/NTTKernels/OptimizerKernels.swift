/// Fused, vectorisable optimiser updates on raw Float32 buffers (one pass over memory).
///
/// Both kernels can fold an L2 penalty λ‖x‖² into the same pass: the gradient used is
/// g + 2λx (`decay` = 2λ), and they return Σx² of the values *before* the update, so the caller
/// gets the penalty's value without reading the weights again.
package enum OptimizerKernels {
    /// Adam in place: g' = g + decay·x, m ← β₁m + (1−β₁)g', v ← β₂v + (1−β₂)g'²,
    /// x ← x − a·m / (s·√v + ε), where the caller folds the bias corrections into a = η/(1−β₁ᵗ)
    /// and s = 1/√(1−β₂ᵗ) (`AdamStep`). Returns Σx² before the update.
    @inlinable @discardableResult
    package static func adam(_ x: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                            m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count n: Int,
                            _ c: AdamStep) -> Float {
        // Eight lanes at a time through SIMD types; the tail element by element, same formula.
        typealias V = SIMD8<Float>
        return sweep(count: n, { i in
            let xi = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let (xn, mi, vi) = c.step(xi, UnsafeRawPointer(g + i).loadUnaligned(as: V.self),
                                      UnsafeRawPointer(m + i).loadUnaligned(as: V.self),
                                      UnsafeRawPointer(v + i).loadUnaligned(as: V.self))
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: xn, as: V.self)
            return xi * xi
        }, { i in
            let xi = x[i]
            (x[i], m[i], v[i]) = c.step(xi, g[i], m[i], v[i])
            return xi * xi
        })
    }

    /// `adam` where `keep` is 1; where it is 0 the element and its moments stay as they are
    /// (their bits unchanged). Returns Σx² of every element before the update.
    @inlinable @discardableResult
    package static func adam(_ x: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                            m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                            keep: UnsafePointer<Float>, count n: Int, _ c: AdamStep) -> Float {
        typealias V = SIMD8<Float>
        return sweep(count: n, { i in
            let xi = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let mo = UnsafeRawPointer(m + i).loadUnaligned(as: V.self)
            let vo = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
            let (xn, mi, vi) = c.step(xi, UnsafeRawPointer(g + i).loadUnaligned(as: V.self), mo, vo)
            let frozen = UnsafeRawPointer(keep + i).loadUnaligned(as: V.self) .== 0
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi.replacing(with: mo, where: frozen), as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi.replacing(with: vo, where: frozen), as: V.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: xn.replacing(with: xi, where: frozen), as: V.self)
            return xi * xi
        }, { i in
            let xi = x[i]
            if keep[i] != 0 { (x[i], m[i], v[i]) = c.step(xi, g[i], m[i], v[i]) }
            return xi * xi
        })
    }

    /// Adam's scalars for one step of one tensor, and its one-element (or eight-lane) update,
    /// shared by both `adam` kernels.
    package struct AdamStep: Sendable {
        @usableFromInline let beta1: Float, beta2: Float, stepScale: Float, rootScale: Float, epsilon: Float
        @usableFromInline let decay: Float

        /// a = `stepScale`, s = `rootScale`; decay = 2λ of an L2 penalty (0: none).
        @inlinable
        package init(beta1: Float, beta2: Float, stepScale: Float, rootScale: Float, epsilon: Float, decay: Float = 0) {
            self.beta1 = beta1; self.beta2 = beta2; self.stepScale = stepScale; self.rootScale = rootScale
            self.epsilon = epsilon; self.decay = decay
        }

        /// (x', m', v') from x, g, m, v: g' = g + decay·x, m' = β₁m + (1−β₁)g', v' = β₂v + (1−β₂)g'²,
        /// x' = x − a·m' / (s·√v' + ε).
        @inlinable @inline(__always)
        func step(_ x: SIMD8<Float>, _ g: SIMD8<Float>, _ m: SIMD8<Float>,
                  _ v: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
            let gi = g + decay * x
            let mi = beta1 * m + (1 - beta1) * gi
            let vi = beta2 * v + (1 - beta2) * (gi * gi)
            return (x - stepScale * mi / (rootScale * vi.laneSquareRoot + epsilon), mi, vi)
        }

        @inlinable @inline(__always)
        func step(_ x: Float, _ g: Float, _ m: Float, _ v: Float) -> (Float, Float, Float) {
            let gi = g + decay * x
            let mi = beta1 * m + (1 - beta1) * gi
            let vi = beta2 * v + (1 - beta2) * (gi * gi)
            return (x - stepScale * mi / (rootScale * vi.squareRoot() + epsilon), mi, vi)
        }
    }

    /// SGD with momentum in place: g' = g + decay·x, u ← μu + g', x ← x − ηu. Returns Σx² before
    /// the update.
    @inlinable @discardableResult
    package static func momentum(_ x: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                                velocity u: UnsafeMutablePointer<Float>, count n: Int,
                                learningRate: Float, momentum: Float, decay: Float = 0) -> Float {
        typealias V = SIMD8<Float>
        return sweep(count: n, { i in
            let xi = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self) + decay * xi
            let ui = momentum * UnsafeRawPointer(u + i).loadUnaligned(as: V.self) + gi
            UnsafeMutableRawPointer(u + i).storeBytes(of: ui, as: V.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: xi - learningRate * ui, as: V.self)
            return xi * xi
        }, { i in
            let xi = x[i]
            let gi = g[i] + decay * xi
            let ui = momentum * u[i] + gi
            u[i] = ui
            x[i] = xi - learningRate * ui
            return xi * xi
        })
    }

    /// The loop both optimisers share: `lanes(i)` for i = 0, 8, 16, … over the part of 0..<n
    /// that fills whole SIMD8 vectors, then `element(i)` for the rest; each updates its elements
    /// and returns their Σx² before the update (summed lane-wise, then the tail).
    @inlinable @inline(__always)
    static func sweep(count n: Int, _ lanes: (Int) -> SIMD8<Float>, _ element: (Int) -> Float) -> Float {
        let vectorEnd = n - n % 8
        var squares = SIMD8<Float>.zero
        var i = 0
        while i < vectorEnd { squares += lanes(i); i &+= 8 }
        var tail: Float = 0
        while i < n { tail += element(i); i &+= 1 }
        return squares.sum() + tail
    }
}
