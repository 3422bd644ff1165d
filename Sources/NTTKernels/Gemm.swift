import CBLAS

/// Matrix products on row-major Float32 buffers, through OpenBLAS's `cblas_sgemm`.
public enum Gemm {
    /// C ← alpha·op(A)·op(B) + beta·C, all row-major and densely packed.
    ///
    /// - Parameters:
    ///   - transposeA: use Aᵀ; A is then stored as [k, m].
    ///   - transposeB: use Bᵀ; B is then stored as [n, k].
    ///   - m: rows of op(A) and C.  - n: columns of op(B) and C.  - k: the contracted size.
    public static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool,
        _ b: UnsafePointer<Float>, transposeB: Bool,
        into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS leaves C untouched for k = 0 with beta = 0 on some builds; define it as zero.
            if beta == 0 { c.update(repeating: 0, count: m * n) } else {
                for i in 0..<(m * n) { c[i] *= beta }
            }
            return
        }
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
    }

    /// The number of threads OpenBLAS uses for one product.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
