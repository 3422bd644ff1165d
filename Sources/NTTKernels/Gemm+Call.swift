import CBLAS

extension Gemm {
    /// One OpenBLAS call, C ← alpha·op(A)·op(B) + beta·C, row-major with leading dimensions; every
    /// product goes through here (OpenBLAS set to one thread first, the call counted in
    /// `multiplyAdds`).
    ///
    /// With beta = 0 and kernels that do not zero C well (`blasZeroes` false; by default
    /// `blasZeroesC`), C is zeroed here and the call made with beta = 1: OpenBLAS's Haswell
    /// kernels zero C first too, but in a scalar loop (`sgemm_beta`, 4–6% of the CNN workloads on
    /// a Zen 3, e.g. the per-sample Jacobians' many small products) where `memset` stores whole
    /// vectors. The kernel adds its product to the zeros either way: the same bits.
    @inline(__always)
    static func call(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int, blasZeroes: Bool = blasZeroesC) {
        _ = singleThreadedBLAS
        count(m: m, n: n, k: k)
        var beta = beta
        if beta == 0 && !blasZeroes {
            if ldc == n {
                c.update(repeating: 0, count: m &* n)
            } else {
                for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) }
            }
            beta = 1
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Whether OpenBLAS gets beta = 0 as it is: with its AVX-512 kernels (SkylakeX, Cooperlake,
    /// SapphireRapids) a small product goes to a kernel that writes C without reading it (no
    /// zeroing pass at all) and a large one's C is zeroed by a vector loop. On a Zen 4 (Cooperlake
    /// kernels) this took 9–13% off `ntt-step/conv4`, whose pooled Jacobians are thousands of
    /// small products per step, with the same bits; other workloads unchanged.
    static let blasZeroesC: Bool = {
        guard let name = openblas_get_corename() else { return false }
        return ["skylakex", "cooperlake", "sapphirerapids"].contains(String(cString: name).lowercased())
    }()
}
