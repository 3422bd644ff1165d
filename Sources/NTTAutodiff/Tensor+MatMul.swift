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
            productPullback(a, transposeA: transposeA, b, transposeB: transposeB, g) {
                matmul($0, transposeA: $1, $2, transposeB: $3)
            }
        }
    }

    /// [Ā, B̄] for C = op(A)·op(B) and cotangent C̄ = g, by the table in `matmul`'s comment, each
    /// made with `product(x, transposeX, y, transposeY)` (`matmul`, or `batchedMatmul` batch by
    /// batch); nil for an operand that is not tracked.
    static func productPullback(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool, _ g: Tensor,
                                _ product: (Tensor, Bool, Tensor, Bool) -> Tensor) -> [Tensor?] {
        // Ā = g·op(B)ᵀ, transposed when A entered transposed; B̄ = op(A)ᵀ·g, likewise. Both cost
        // the forward product's multiply-adds: g's entries times op(A)'s inner dimension.
        let inner = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let (ga, gb) = Threads.pair(
            work: g.count * inner,
            a.node != nil, {
                transposeA ? product(b, transposeB, g, true) : product(g, false, b, !transposeB)
            },
            b.node != nil, {
                transposeB ? product(g, true, a, transposeA) : product(a, !transposeA, g, false)
            })
        return [ga, gb]
    }
}

extension Tensor {
    /// x·w + b for x [m, k], w [k, n] and a bias row b [n], in one product: C starts as b in
    /// every row and the GEMM adds x·w to it (no broadcast copy, no separate addition pass).
    /// Pullbacks: x̄ = C̄ wᵀ, w̄ = xᵀ C̄, b̄ = Σ_rows C̄.
    public static func affine(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
        let shape = ShapeRules.require({ () throws(ShapeError) in
            try ShapeRules.matmul(x.shape, transposeA: false, w.shape, transposeB: false)
        }, "affine")
        let m = shape[0], n = shape[1], k = x.shape[1]
        precondition(b.shape == [n], "affine: bias shape \(b.shape) does not match \(n) output columns")
        let out = make(shape) { c in
            b.withPointer { Strided.repeatRow($0, count: n, rows: m, into: c) }
            x.withPointer { px in w.withPointer { pw in
                Gemm.multiply(px, transposeA: false, pw, transposeB: false, into: c, m: m, n: n, k: k, beta: 1)
            } }
        }
        return recorded(shape, out, inputs: [x, w, b]) { g in
            [x.node == nil ? nil : matmul(g, w, transposeB: true),
             w.node == nil ? nil : matmul(x, transposeA: true, g),
             b.node == nil ? nil : g.sum(toShape: [n])]
        }
    }
}

/// Matrix product, `a • b` = `Tensor.matmul(a, b)`.
infix operator • : MultiplicationPrecedence
extension Tensor {
    public static func • (lhs: Tensor, rhs: Tensor) -> Tensor { matmul(lhs, rhs) }
}

extension Tensor {
    /// A batch of independent matrix products: result[b] = op(a[b])·op(b[b]) for rank-3 operands
    /// [B, ·, ·]. Pullbacks are those of `matmul`, batch by batch.
    public static func batchedMatmul(_ a: Tensor, transposeA: Bool = false,
                                     _ b: Tensor, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0],
                     "batchedMatmul: needs [B, ·, ·] operands with equal B, got \(a.shape) and \(b.shape)")
        let mn = ShapeRules.require({ () throws(ShapeError) in
            try ShapeRules.matmul(Array(a.shape.dropFirst()), transposeA: transposeA,
                                  Array(b.shape.dropFirst()), transposeB: transposeB)
        }, "batchedMatmul")
        let batch = a.shape[0], m = mn[0], n = mn[1], k = transposeA ? a.shape[1] : a.shape[2]
        let shape = [batch, m, n]
        let strideA = a.shape[1] * a.shape[2], strideB = b.shape[1] * b.shape[2]
        let out = make(shape) { c in
            a.withPointer { pa in b.withPointer { pb in
                Parallel.forEach(parts: batch) { i in
                    Gemm.multiply(pa + i * strideA, transposeA: transposeA, pb + i * strideB, transposeB: transposeB,
                                  into: c + i * m * n, m: m, n: n, k: k)
                }
            } }
        }
        return recorded(shape, out, inputs: [a, b]) { g in
            productPullback(a, transposeA: transposeA, b, transposeB: transposeB, g) {
                batchedMatmul($0, transposeA: $1, $2, transposeB: $3)
            }
        }
    }
}
