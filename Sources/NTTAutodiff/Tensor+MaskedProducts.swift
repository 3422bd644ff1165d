import NTTKernels

/// Products with a masked weight w ⊙ m, as functions of the raw weight w (the mask is a constant,
/// given by its kept entries): they skip the pruned entries (`SparseProduct`) and give the same
/// values as the dense products with w ⊙ m up to the order of the additions.
///
/// The three ops are closed under differentiation (so they nest to any order); for
/// C = a·(w⊙m), D = a·(w⊙m)ᵀ and S = (aᵀb)⊙m with cotangents C̄, D̄, S̄:
///
///     ā = C̄·(w⊙m)ᵀ,   w̄ = (aᵀC̄)⊙m
///     ā = D̄·(w⊙m),    w̄ = (D̄ᵀa)⊙m
///     ā = b·(S̄⊙m)ᵀ,   b̄ = a·(S̄⊙m)
extension Tensor {
    /// x·(w ⊙ m) + b for x [n, K], w [K, N] (m given by `mask`) and a bias row b [N].
    package static func maskedAffine(_ x: Tensor, _ w: Tensor, _ b: Tensor, mask: SparsePattern) -> Tensor {
        maskedProduct(x, w, bias: b, mask: mask)
    }

    /// a·(w ⊙ m) for a [n, K] and w [K, N], or a·(w ⊙ m)ᵀ for a [n, N] when `transposeW`.
    ///
    /// - Parameter classes: for a·(w ⊙ m)ᵀ, the rows of a fall into this many classes (row mod
    ///   classes: the NTK's cotangents, rows ordered (sample, output)); when each class's rows are
    ///   zero outside a few columns (`GroupSupport`), the product only visits the kept entries in
    ///   them (same values, up to the sign of a zero; the pullback is unchanged).
    package static func maskedMatmul(_ a: Tensor, _ w: Tensor, transposeW: Bool = false,
                                     mask: SparsePattern, classes: Int? = nil) -> Tensor {
        transposeW ? maskedProductTransposed(a, w, mask: mask, classes: classes)
            : maskedProduct(a, w, bias: nil, mask: mask)
    }

    /// (aᵀ·b) ⊙ m for a [n, K] and b [n, N]: [K, N], zero at pruned entries.
    package static func maskedGram(_ a: Tensor, _ b: Tensor, mask: SparsePattern) -> Tensor {
        let (k, n) = (mask.rows, mask.columns)
        precondition(a.rank == 2 && b.rank == 2 && a.shape == [a.shape[0], k] && b.shape == [a.shape[0], n],
                     "maskedGram: needs [n, \(k)] and [n, \(n)] operands for a [\(k), \(n)] mask, "
                     + "got \(a.shape) and \(b.shape)")
        let out = make([k, n]) { s in
            a.withPointer { pa in b.withPointer { pb in
                SparseProduct.maskedGram(pa, pb, rows: a.shape[0], pattern: mask, into: s)
            } }
        }
        return recorded([k, n], out, inputs: [a, b]) { g in
            let (ga, gb) = Threads.pair(work: a.shape[0] * mask.count,
                                        a.node != nil, { maskedMatmul(b, g, transposeW: true, mask: mask) },
                                        b.node != nil, { maskedMatmul(a, g, mask: mask) })
            return [ga, gb]
        }
    }

    private static func maskedProduct(_ a: Tensor, _ w: Tensor, bias: Tensor?, mask: SparsePattern) -> Tensor {
        let (k, n) = (mask.rows, mask.columns)
        precondition(a.rank == 2 && a.shape[1] == k && w.shape == [k, n],
                     "maskedMatmul: needs [·, \(k)] and [\(k), \(n)] operands for a [\(k), \(n)] mask, "
                     + "got \(a.shape) and \(w.shape)")
        precondition(bias == nil || bias!.shape == [n], "maskedAffine: bias shape \(bias!.shape) is not [\(n)]")
        let rows = a.shape[0]
        let out = make([rows, n]) { c in
            a.withPointer { pa in w.withPointer { pw in
                if let bias {
                    bias.withPointer { pb in
                        SparseProduct.multiply(pa, rows: rows, pw, pattern: mask, bias: pb, into: c)
                    }
                } else {
                    SparseProduct.multiply(pa, rows: rows, pw, pattern: mask, bias: nil, into: c)
                }
            } }
        }
        return recorded([rows, n], out, inputs: [a, w] + (bias.map { [$0] } ?? [])) { g in
            let (ga, gw) = Threads.pair(work: rows * mask.count,
                                        a.node != nil, { maskedMatmul(g, w, transposeW: true, mask: mask) },
                                        w.node != nil, { maskedGram(a, g, mask: mask) })
            return [ga, gw, bias?.node == nil ? nil : g.sum(toShape: [n])]
        }
    }

    private static func maskedProductTransposed(_ a: Tensor, _ w: Tensor, mask: SparsePattern,
                                                classes: Int?) -> Tensor {
        let (k, n) = (mask.rows, mask.columns)
        precondition(a.rank == 2 && a.shape[1] == n && w.shape == [k, n],
                     "maskedMatmul: needs [·, \(n)] and [\(k), \(n)] operands for a transposed [\(k), \(n)] mask, "
                     + "got \(a.shape) and \(w.shape)")
        let rows = a.shape[0]
        // The class supports of a, when the product over them costs at most a quarter of the plain one.
        let support = classes.flatMap { classes in
            a.withPointer { GroupSupport(scanning: $0, rows: rows, columns: n, groups: classes) }
        }.flatMap { s in
            SparseProduct.groupedWork(rows: rows, pattern: mask, support: s) * 4 <= rows * mask.count ? s : nil
        }
        let out = make([rows, k]) { c in
            a.withPointer { pa in w.withPointer { pw in
                if let support {
                    SparseProduct.multiplyTransposed(pa, rows: rows, pw, pattern: mask, support: support, into: c)
                } else {
                    SparseProduct.multiplyTransposed(pa, rows: rows, pw, pattern: mask, into: c)
                }
            } }
        }
        return recorded([rows, k], out, inputs: [a, w]) { g in
            let (ga, gw) = Threads.pair(work: rows * mask.count,
                                        a.node != nil, { maskedMatmul(g, w, mask: mask) },
                                        w.node != nil, { maskedGram(g, a, mask: mask) })
            return [ga, gw]
        }
    }
}
