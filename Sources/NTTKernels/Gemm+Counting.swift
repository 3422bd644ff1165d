import Synchronization

extension Gemm {
    /// The multiply-adds (m·n·k) of every OpenBLAS call so far, on any thread: `ntt bench` reports
    /// a workload's GEMM work from the difference over its timed runs. One relaxed atomic add per
    /// call (a few nanoseconds against the call's microseconds); nothing else reads it.
    package static let multiplyAdds = Atomic<Int>(0)

    @inline(__always)
    static func count(m: Int, n: Int, k: Int) {
        multiplyAdds.wrappingAdd(m &* n &* k, ordering: .relaxed)
    }
}
