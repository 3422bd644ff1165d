import NeuralTangentTransfer
import NTTKernels

/// The thread budget of a computation, set by the caller around it.
public enum ComputeBudget {
    /// Runs `body` with up to `threads` threads for parallel kernels (results are the same bits
    /// with any count); also keeps freed memory in the allocator for the next step's buffers.
    public static func run<R>(threads: Int, _ body: () throws -> R) rethrows -> R {
        AllocatorTuning.keepFreedMemory()
        Parallel.threadCount = max(1, threads)  // TEMPORARY until the task-local budget lands
        return try body()
    }
}
