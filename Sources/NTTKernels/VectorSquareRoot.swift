#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

extension SIMD8<Float> {
    /// √x in every lane, correctly rounded (the same bits as `Float.squareRoot()` lane by lane).
    /// The generic `squareRoot()` of a SIMD type calls the scalar square root once per lane,
    /// with a libm fallback for negative inputs; on x86-64 two SSE `sqrtps` do all eight.
    @inlinable @inline(__always)
    package var laneSquareRoot: SIMD8<Float> {
        #if arch(x86_64)
        SIMD8(lowHalf: SIMD4(_mm_sqrt_ps(lowHalf)), highHalf: SIMD4(_mm_sqrt_ps(highHalf)))
        #else
        squareRoot()
        #endif
    }
}
