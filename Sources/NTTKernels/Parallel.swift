import Synchronization
#if canImport(Glibc)
import Glibc
import CMalloc
#endif

/// Runs the parts of a job on up to `threadBudget` threads.
///
/// Callers split their work into parts by the work's *shape* only, never by the thread count,
/// so every result is the same bit for bit however many threads run the parts (one thread runs
/// them in order). This replaces OpenBLAS's own threading, whose workers spin in `sched_yield`
/// between calls and parallelise the thin products of small networks poorly.
package enum Parallel {
    /// The online cores: the budget when none is set.
    package static let onlineCores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Threads that may run the parts of a job started by the current task or thread (≥ 1;
    /// default: the online cores). Task-local, like the tape's recording flag: a computation
    /// gets its budget from its caller (`$threadBudget.withValue(n) { … }`, which also works in
    /// synchronous code), never from a process-wide setting. Read once per job of several parts,
    /// on the calling thread (~50 ns, next to microseconds per job); helpers get the count with
    /// the job.
    @TaskLocal package static var threadBudget: Int = onlineCores

    /// The most ranges `forEachRange` cuts a job into (so the most threads it can use).
    package static let maximumRanges = 64

    /// Calls `body(part)` for every part in 0..<parts, spreading the parts over the threads;
    /// returns when all have finished. A call made while another is running (from a part, e.g.
    /// one side of `overlapping`, or from another thread) becomes the pool's nested job: the
    /// calling thread runs its parts, helped by threads of the running job that have nothing
    /// left to do; if a nested job runs already, its parts run in order on the calling thread.
    package static func forEach(parts: Int, _ body: (Int) -> Void) {
        // (One part needs no budget: skipping the task-local lookup, ~50 ns, keeps tiny jobs cheap.)
        let helpers = parts > 1 ? min(parts, threadBudget) - 1 : 0
        if helpers <= 0 || parts > WorkerPool.maximumParts
            || !(WorkerPool.shared.run(parts: parts, helpers: helpers, body)
                 || WorkerPool.shared.runNested(parts: parts, helpers: helpers, body)) {
            for part in 0..<parts { body(part) }
        }
    }

    /// Runs two independent computations at once when the budget is exactly two threads: `first`
    /// on the calling thread, `second` on a helper, each on one thread (the parallel kernels
    /// inside them become nested jobs: once one side is done, its thread takes parts of the
    /// other's). Two computations of a few small products each use two cores better this way
    /// than by cutting each product in two, one after the other. With any other budget, or when
    /// called while another job runs, they run one after the other on the calling thread
    /// (`first`, then `second`), each with the budget. The parts are cut as always, so the results are the same
    /// bit for bit either way.
    ///
    /// `first` always runs on the calling thread, so it may use the caller's task-local state (the
    /// tape's recording); `second` sees the task-local defaults when it runs on a helper and must
    /// not depend on the caller's.
    package static func overlapping<A, B>(_ first: () -> A, _ second: () -> B) -> (A, B) {
        var a: A?, b: B?
        if threadBudget != 2 || !WorkerPool.shared.run(parts: 2, helpers: 1, callerRunsFirstPart: true, { part in
            if part == 0 { a = first() } else { b = second() }
        }) {
            a = first()
            b = second()
        }
        return (a!, b!)
    }

    /// Splits `count` independent items (e.g. the images of a batch), each costing about
    /// `work` element operations, into at most `maximumRanges` contiguous ranges of at least
    /// ~16k operations, and calls `body` for each range (possibly at once). The items are
    /// independent, so how they are cut cannot change a result.
    package static func forEachRange(of count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = max(1, min(maximumRanges, count, count * work / 16_384))
        let size = (count + parts - 1) / parts
        forEach(parts: (count + size - 1) / size) { p in
            body((p * size)..<min(count, (p + 1) * size))
        }
    }
}
