import NTTKernels

extension Tensor {
    /// op(a)·op(b) for rank-2 tensors, where op transposes when asked (no copy is made).
    ///
    /// Pullbacks (C = op(A)·op(B), cotangent C̄):
    ///   C = A B:   Ā = C̄ Bᵀ,    B̄ = Aᵀ C̄
    ///   C = AᵀB:   Ā = B C̄ᵀ,    B̄ = A C̄
    ///   C = A Bᵀ:  Ā = C̄ B,     B̄ = C̄ᵀ A
    ///   C = AᵀBᵀ:  Ā = Bᵀ C̄ᵀ,   B̄ = C̄ᵀ Aᵀ
    public static func matmul(_ a: Tensor, transposeA: Bool = false,
                              _ b: Tensor, transposeB: Bool = false) -> Tensor {
        let shape = ShapeRules.require({ () throws(ShapeError) in
            try ShapeRules.matmul(a.shape, transposeA: transposeA, b.shape, transposeB: transposeB)
        }, "matmul")
        let m = shape[0], n = shape[1], k = transposeA ? a.shape[0] : a.shape[1]
        let out = make(shape) { c in
            a.withPointer { pa in b.withPointer { pb in
                Gemm.multiply(pa, transposeA: transposeA, pb, transposeB: transposeB, into: c, m: m, n: n, k: k)
            } }
        }
        return recorded(shape, out, inputs: [a, b]) { g in
            let ga: Tensor? = a.node == nil ? nil : {
                switch (transposeA, transposeB) {
                case (false, false): return matmul(g, b, transposeB: true)
                case (true, false): return matmul(b, g, transposeB: true)
                case (false, true): return matmul(g, b)
                case (true, true): return matmul(b, transposeA: true, g, transposeB: true)
                }
            }()
            let gb: Tensor? = b.node == nil ? nil : {
                switch (transposeA, transposeB) {
                case (false, false): return matmul(a, transposeA: true, g)
                case (true, false): return matmul(a, g)
                case (false, true): return matmul(g, transposeA: true, a)
                case (true, true): return matmul(g, transposeA: true, a, transposeB: true)
                }
            }()
            return [ga, gb]
        }
    }
}

/// Matrix product, `a • b` = `Tensor.matmul(a, b)`.
infix operator • : MultiplicationPrecedence
extension Tensor {
    public static func • (lhs: Tensor, rhs: Tensor) -> Tensor { matmul(lhs, rhs) }
}
