import CBLAS

/// Matrix products on row-major Float32 buffers, through OpenBLAS's `cblas_sgemm`.
///
/// OpenBLAS runs single-threaded; a product big enough to share is cut into parts along the
/// rows of C, its columns, or the contracted axis (then the partial products are added in a
/// fixed order), and the parts run through `Parallel`. The cut depends only on the shape, so
/// results do not depend on the thread count.
package enum Gemm {
    /// C ← alpha·op(A)·op(B) + beta·C, all row-major and densely packed.
    ///
    /// - Parameters:
    ///   - transposeA: use Aᵀ; A is then stored as [k, m].
    ///   - transposeB: use Bᵀ; B is then stored as [n, k].
    ///   - m: rows of op(A) and C.  - n: columns of op(B) and C.  - k: the contracted size.
    package static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool,
        _ b: UnsafePointer<Float>, transposeB: Bool,
        into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            return single(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: 0, beta: beta)
        }
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        func product(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                     m: Int, n: Int, k: Int, beta: Float) {
            call(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                 a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: n)
        }
        switch Partition(m: m, n: n, k: k) {
        case .whole:
            product(a, b, c, m: m, n: n, k: k, beta: beta)
        case .rows(let parts, let size):
            Parallel.forEach(parts: parts) { p in
                let i0 = p * size, rows = min(size, m - i0)
                product(transposeA ? a + i0 : a + i0 * k, b, c + i0 * n, m: rows, n: n, k: k, beta: beta)
            }
        case .columns(let parts, let size):
            // C's leading dimension stays n: each part writes a block of columns.
            Parallel.forEach(parts: parts) { p in
                let j0 = p * size, columns = min(size, n - j0)
                call(transposeA: transposeA, transposeB: transposeB, m: m, n: columns, k: k, alpha: alpha,
                     a, lda: lda, transposeB ? b + j0 * k : b + j0, ldb: ldb, beta: beta, c + j0, ldc: n)
            }
        case .contracted(let parts, let size):
            // Part 0 goes straight into C (with beta), the others into scratch; then C += Σ scratch
            // in part order.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (parts - 1) * m * n)
            defer { scratch.deallocate() }
            Parallel.forEach(parts: parts) { p in
                let k0 = p * size, depth = min(size, k - k0)
                product(transposeA ? a + k0 * m : a + k0, transposeB ? b + k0 : b + k0 * n,
                        p == 0 ? c : scratch + (p - 1) * m * n, m: m, n: n, k: depth, beta: p == 0 ? beta : 0)
            }
            // Rows of C are shared out; each element adds the parts in order, on any thread.
            Parallel.forEachRange(of: m, work: n * (parts - 1)) { rows in
                for p in 1..<parts {
                    let partial = scratch + (p - 1) * m * n
                    for i in (rows.lowerBound * n)..<(rows.upperBound * n) { c[i] += partial[i] }
                }
            }
        }
    }

    /// C ← alpha·op(A)·op(B) + beta·C in one OpenBLAS call on the calling thread, for callers
    /// that share out the work themselves.
    static func single(_ a: UnsafePointer<Float>, transposeA: Bool, _ b: UnsafePointer<Float>, transposeB: Bool,
                       into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
                       alpha: Float = 1, beta: Float = 0) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS leaves C untouched for k = 0 with beta = 0 on some builds; define it as zero.
            if beta == 0 { c.update(repeating: 0, count: m * n) } else {
                for i in 0..<(m * n) { c[i] *= beta }
            }
            return
        }
        call(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
             a, lda: transposeA ? m : k, b, ldb: transposeB ? k : n, beta: beta, c, ldc: n)
    }

    /// The most parts a product is cut into: the most threads one product can use.
    package static let maximumParts = 64

    /// How a product is cut; a function of the shape alone.
    enum Partition: Equatable {
        case whole
        /// Parts of `size` rows of C (the last may be shorter).
        case rows(parts: Int, size: Int)
        /// Parts of `size` columns of C.
        case columns(parts: Int, size: Int)
        /// Parts of `size` along the contracted axis.
        case contracted(parts: Int, size: Int)

        /// Work per part at least ~4 MFLOP (below that, waking a thread costs more than it
        /// saves), at most 8 parts up to 512 MFLOP; a bigger product gets a part per ~64 MFLOP,
        /// up to 64 parts, so that a large thread budget (a cluster node's cores) has work for
        /// every thread, while on few threads the extra parts cost little (each re-packs only
        /// what it reads). At least 32 rows or columns per part, in multiples of 16 (OpenBLAS's
        /// register blocks). The contracted axis is cut when it is long next to C (weight
        /// gradients of conv layers and the conv NTK's Grams: each part then packs its own slice
        /// of both operands instead of every part packing all of one) or when C is too small to
        /// cut: into 2 parts up to 512 MFLOP, else into parts of at least 1024.
        ///
        /// Products up to 512 MFLOP are cut exactly as before the larger budgets (the MLP's all
        /// are), so their results did not change; OpenBLAS's kernels give different last bits
        /// for different cuts of the same product, so the cut must not depend on the threads.
        init(m: Int, n: Int, k: Int) {
            let flops = 2.0 * Double(m) * Double(n) * Double(k)
            let large = flops > 512e6
            let wanted = large ? min(Gemm.maximumParts, Int(flops / 64e6)) : min(8, Int(flops / 4e6))
            guard wanted >= 2 else { self = .whole; return }
            func contracted() -> Partition {
                // (Each part after the first holds an m×n partial: at most ~64 MB of them.)
                let parts = large ? max(2, min(wanted, k / 1024, 1 + (1 << 24) / (m * n))) : 2
                let size = (k + parts - 1) / parts
                return .contracted(parts: (k + size - 1) / size, size: size)
            }
            func cut(_ length: Int) -> (parts: Int, size: Int)? {
                let size = max(32, ((length + wanted - 1) / wanted + 15) / 16 * 16)
                let parts = (length + size - 1) / size
                return parts >= 2 ? (parts, size) : nil
            }
            if k >= 4 * max(m, n) && k >= 1024 { self = contracted() }
            else if m >= n, let r = cut(m) { self = .rows(parts: r.parts, size: r.size) }
            else if let c = cut(n) { self = .columns(parts: c.parts, size: c.size) }
            else if let r = cut(m) { self = .rows(parts: r.parts, size: r.size) }
            else if k >= 512 { self = contracted() }
            else { self = .whole }
        }
    }

    /// OpenBLAS's own threads are switched off the first time a product runs. This is a one-time
    /// initialisation of the library, not a setting: every product must run single-threaded
    /// inside OpenBLAS (the parts are shared out by `Parallel` within the caller's thread budget),
    /// the value never changes afterwards, and nothing reads it back.
    static let singleThreadedBLAS: Void = { openblas_set_num_threads(1) }()
}
