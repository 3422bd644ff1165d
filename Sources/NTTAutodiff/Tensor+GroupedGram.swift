import NTTKernels

/// The Gram D₁·D₂ᵀ of two matrices whose rows fall into `groups` classes (row r in class
/// r mod groups), such as the NTK's cotangents Δ at a dense layer, rows ordered (sample, output).
/// A sparse network's Δ is zero outside a few columns per output (`GroupSupport`); when both
/// operands are that sparse, the Gram and both cotangents of its pullback skip the zero columns
/// (`GroupSparseProduct`), else they are the plain products. Either way the values are those of
/// `matmul(d1, d2, transposeB: true)` up to the order of the additions, and its gradients exactly
/// (the support only skips zeros of the operand it belongs to):
///
///     G = D₁·D₂ᵀ,   D̄₁ = Ḡ·D₂,   D̄₂ = Ḡᵀ·D₁
extension Tensor {
    /// The most (class, column) pairs a support of `groups` classes of P columns may have for the
    /// sparse products: 0.4·P − 8 columns per class on average. Timed on one thread (Zen 3) for
    /// 320 rows in 10 classes, the Gram and both cotangents together: the sparse products cost
    /// about 0.19 ms plus 0.016 ms per column of a class (passes over Ḡ, gathers, 30 small GEMMs),
    /// the plain ones about 0.08 ms plus 0.0077 ms per column P (P = 300: 2.3 ms against 0.62 ms
    /// at 9% support, 1.94 ms at 39%; P = 100: 0.79 against 0.25 ms at 3%; P = 10: 0.155 against
    /// 0.20 ms, so a network's last layer, whose Δ is one column per class, stays plain).
    package static func sparseSupportLimit(groups: Int, columns: Int) -> Int {
        max(-1, Int((0.4 * Double(columns) - 8) * Double(groups)))
    }

    /// D₁·D₂ᵀ for D₁ [r1, P] and D₂ [r2, P], rows in `groups` classes.
    package static func groupedGram(_ d1: Tensor, _ d2: Tensor, groups: Int) -> Tensor {
        precondition(d1.rank == 2 && d2.rank == 2 && d1.shape[1] == d2.shape[1] && groups > 0,
                     "groupedGram: needs [·, P] operands with equal P, got \(d1.shape) and \(d2.shape)")
        let (r1, r2) = (d1.shape[0], d2.shape[0])
        guard let (s1, s2) = groupedGramSupports(d1, d2, groups: groups) else {
            return matmul(d1, d2, transposeB: true)
        }
        let out = make([r1, r2]) { g in
            d1.withPointer { p1 in d2.withPointer { p2 in
                GroupSparseProduct.gram(p1, rows: r1, support: s1, p2, rows: r2, into: g)
            } }
        }
        return recorded([r1, r2], out, inputs: [d1, d2]) { g in
            // Each cotangent costs about r1·r2 multiply-adds per supported column of a class.
            let (g1, g2) = Threads.pair(work: r1 * r2 * max(s1.count, s2.count) / groups,
                                        d1.node != nil, { groupSparseProduct(g, transposeX: false, d2, support: s2) },
                                        d2.node != nil, { groupSparseProduct(g, transposeX: true, d1, support: s1) })
            return [g1, g2]
        }
    }

    /// The class supports of D₁ and D₂ when both are sparse enough for the sparse products, else nil.
    package static func groupedGramSupports(_ d1: Tensor, _ d2: Tensor, groups: Int) -> (GroupSupport, GroupSupport)? {
        let width = d1.shape[1]
        guard d1.shape[0] > 0, d2.shape[0] > 0, width > 0 else { return nil }
        let limit = sparseSupportLimit(groups: groups, columns: width)
        func support(_ d: Tensor) -> GroupSupport? {
            d.withPointer {
                GroupSupport(scanning: $0, rows: d.shape[0], columns: width, groups: groups, maximumCount: limit)
            }
        }
        guard let s1 = support(d1), let s2 = support(d2) else { return nil }
        return (s1, s2)
    }

    /// op(X)·D for D [R, P] zero outside `support` (rows in its classes), X [m, R] (stored [R, m]
    /// when `transposeX`). Its own pullback (used only by second-order gradients) is the plain
    /// products', so it is exact at any order.
    static func groupSparseProduct(_ x: Tensor, transposeX: Bool, _ d: Tensor, support: GroupSupport) -> Tensor {
        let (r, width) = (d.shape[0], d.shape[1])
        precondition(x.rank == 2 && x.shape[transposeX ? 0 : 1] == r && support.columns == width,
                     "groupSparseProduct: \(x.shape) (transposed: \(transposeX)) and \(d.shape) do not match")
        let m = x.shape[transposeX ? 1 : 0]
        let out = make([m, width]) { c in
            x.withPointer { px in d.withPointer { pd in
                GroupSparseProduct.product(px, transposeX: transposeX, rows: m, pd, rows: r, support: support, into: c)
            } }
        }
        return recorded([m, width], out, inputs: [x, d]) { g in
            productPullback(x, transposeA: transposeX, d, transposeB: false, g) {
                matmul($0, transposeA: $1, $2, transposeB: $3)
            }
        }
    }
}
