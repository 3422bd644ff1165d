import CBLAS

extension Gemm {
    /// C ← op(A)·op(B) + beta·C on the calling thread, for sub-matrices: row-major operands
    /// with leading dimensions lda, ldb, ldc (a block of columns of a wider matrix).
    static func single(_ a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
                       _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                       into c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int, beta: Float) {
        precondition(k > 0 && lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n,
                     "Gemm.single: leading dimensions too small for a \(m)×\(n)×\(k) product")
        if m == 0 || n == 0 { return }
        _ = singleThreadedBLAS
        count(m: m, n: n, k: k)
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
