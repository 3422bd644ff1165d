import NTTKernels

// The product of a full-shaped tensor and a broadcast one (e.g. the NTK's (H₁H₂ᵀ + 1) [n₁,1,n₂,1]
// times Δ₁Δ₂ᵀ [n₁,k,n₂,k], or a ReLU mask repeated over k cotangents) in one pass, without the
// broadcast copy. The adjoint pair: broadcastProduct (a ⊙ x↑) and productSum (Σ↓ g ⊙ a); each is
// the other's pullback, so the pair is closed under differentiation. Same bits as broadcasting
// first and multiplying.

extension Tensor {
    /// `a * b` when exactly one operand has the common shape and the other broadcasts to it;
    /// nil otherwise (the caller broadcasts both).
    static func broadcastProduct(_ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor? {
        if a.shape == shape && b.shape != shape { return product(full: a, broadcast: b, fullFirst: true) }
        if b.shape == shape && a.shape != shape { return product(full: b, broadcast: a, fullFirst: false) }
        return nil
    }

    /// full ⊙ broadcast(small); the inputs are recorded in the caller's operand order.
    private static func product(full: Tensor, broadcast small: Tensor, fullFirst: Bool) -> Tensor {
        let shape = full.shape
        let aligned = [Int](repeating: 1, count: shape.count - small.rank) + small.shape
        let out = make(shape) { o in
            full.withPointer { a in small.withPointer { x in
                Strided.multiplyBroadcast(a, x, from: aligned, to: shape, into: o)
            } }
        }
        return recorded(shape, out, inputs: fullFirst ? [full, small] : [small, full]) { g in
            let (gFull, gSmall) = Threads.pair(work: g.count,
                                               full.node != nil, { g.timesBroadcast(small) },
                                               small.node != nil, { g.productSum(full, toShape: small.shape) })
            return fullFirst ? [gFull, gSmall] : [gSmall, gFull]
        }
    }

    /// self ⊙ broadcast(small), self having the full shape.
    func timesBroadcast(_ small: Tensor) -> Tensor { Tensor.product(full: self, broadcast: small, fullFirst: true) }

    /// Σ (self ⊙ a) over the axes that broadcast to `target`: the adjoint of `timesBroadcast` in
    /// the broadcast operand. Differentiable in both tensors.
    func productSum(_ a: Tensor, toShape target: [Int]) -> Tensor {
        precondition(shape == a.shape, "productSum: shapes \(shape) and \(a.shape) differ")
        let aligned = [Int](repeating: 1, count: rank - target.count) + target
        var fused = true
        let out = Tensor.make(target) { o in
            withPointer { g in a.withPointer { a in
                fused = Strided.multiplyReduce(g, a, from: shape, to: aligned, into: o)
            } }
        }
        if !fused { return (self * a).sum(toShape: target) }
        let (g, full) = (self, a)
        return Tensor.recorded(target, out, inputs: [g, full]) { s in
            [g.node == nil ? nil : full.timesBroadcast(s), full.node == nil ? nil : g.timesBroadcast(s)]
        }
    }
}
