import CBLAS

extension Gemm {
    /// One OpenBLAS call, C ← alpha·op(A)·op(B) + beta·C, row-major with leading dimensions; every
    /// product goes through here (OpenBLAS set to one thread first, the call counted in
    /// `multiplyAdds`).
    ///
    /// With beta = 0, C is zeroed here and the call made with beta = 1: OpenBLAS zeroes C first
    /// too, but in a scalar loop (`sgemm_beta`, 4–6% of the CNN workloads, e.g. the per-sample
    /// Jacobians' many small products) where `memset` stores whole vectors. The kernel adds its
    /// product to the zeros either way, so the results are the same bit for bit.
    @inline(__always)
    static func call(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = singleThreadedBLAS
        count(m: m, n: n, k: k)
        var beta = beta
        if beta == 0 {
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
}
