extension Gemm {
    /// C ← op(A)·op(B) + beta·C on the calling thread, for sub-matrices: row-major operands
    /// with leading dimensions lda, ldb, ldc (a block of columns of a wider matrix).
    static func single(_ a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
                       _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                       into c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int, beta: Float) {
        precondition(k > 0 && lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n,
                     "Gemm.single: leading dimensions too small for a \(m)×\(n)×\(k) product")
        if m == 0 || n == 0 { return }
        call(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
             a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
    }
}
