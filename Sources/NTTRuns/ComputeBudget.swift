import NeuralTangentTransfer
import NTTKernels

/// The resources a run's computation may use, set by the caller around the call.
public enum ComputeBudget {
    /// Runs `body` with up to `threads` threads for parallel kernels (task-local: see `Threads`;
    /// results are the same bits with any count). Also tells the allocator to keep freed memory
    /// for the next step's buffers (a one-time process setting of the C allocator, not of ours).
    public static func run<R>(threads: Int, _ body: () throws -> R) rethrows -> R {
        AllocatorTuning.keepFreedMemory()
        return try Threads.withBudget(max(1, threads), body)
    }
}
