#if canImport(Glibc)
import CMalloc
#endif

/// Allocator settings for numeric workloads.
package enum AllocatorTuning {
    /// Keeps large freed blocks in the process instead of returning them to the kernel.
    ///
    /// Tensors of tens of megabytes are allocated and freed every step; with glibc's defaults
    /// each one is a fresh `mmap`, and the kernel zero-fills its pages on first touch — measured
    /// at 10–15% of a LeNet-5 transfer step. Raising the mmap and trim thresholds lets the heap
    /// reuse the pages.
    package static func keepFreedMemory() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }
}
