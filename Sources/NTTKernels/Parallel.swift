import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs the parts of a job on up to `threadCount` threads.
///
/// Callers split their work into parts by the work's *shape* only, never by the thread count,
/// so every result is the same bit for bit however many threads run the parts (one thread runs
/// them in order). This replaces OpenBLAS's own threading, whose workers spin between calls and
/// parallelise the thin products of small networks poorly.
public enum Parallel {
    private static let threads = Atomic<Int>(max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    /// Threads that may run parts at once (at least 1; default: the online cores). `ntt` sets it
    /// from `--threads`.
    public static var threadCount: Int {
        get { threads.load(ordering: .relaxed) }
        set { threads.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Calls `body(part)` for every part in 0..<parts, spreading the parts over the threads;
    /// returns when all have finished.
    public static func forEach(parts: Int, _ body: (Int) -> Void) {
        let workers = min(parts, threadCount)
        if workers <= 1 {
            for part in 0..<parts { body(part) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for part in stride(from: worker, to: parts, by: workers) { shared.value(part) }
            }
        }
    }

    /// Splits `count` independent items (e.g. the images of a batch), each costing about
    /// `work` element operations, into at most 8 contiguous ranges of at least ~64k operations,
    /// and calls `body` for each range (possibly at once).
    public static func forEachRange(of count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(8, count, count * work / 65_536))
        let size = (count + parts - 1) / max(parts, 1)
        forEach(parts: (count + size - 1) / max(size, 1)) { p in
            body((p * size)..<min(count, (p + 1) * size))
        }
    }
}

/// Carries a non-Sendable value into `concurrentPerform`; the parts it runs touch disjoint memory.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
