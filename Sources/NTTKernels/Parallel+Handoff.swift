import Synchronization

extension Parallel {
    /// Microseconds for one job handed from the calling thread to a helper and back: the caller
    /// publishes a job of two parts and runs the first, which waits until a helper has started
    /// the second; then it waits for that part to be counted done. Every parallel part of a small
    /// workload pays about this, so it sets how finely work can be shared. It depends on how far
    /// apart the two threads' cores are, which a virtual machine's host can change from minute to
    /// minute (docs/where-time-goes.md, "The host's slow phase"). The median of `batches` batches of
    /// `jobs` jobs, after as many jobs untimed (a helper started by the first job takes only the
    /// next ones); nil with a budget of one thread, when the pool is busy with another job, or
    /// when a helper does not take its part within 10 ms (the first part then stops waiting and
    /// the caller runs the second itself, as any job's caller would).
    package static func handoffMicroseconds(jobs: Int = 2_000, batches: Int = 5) -> Double? {
        handoffMicroseconds(jobs: jobs, batches: batches, pool: .shared)
    }

    /// The same on `pool` (tests: a pool of their own).
    static func handoffMicroseconds(jobs: Int, batches: Int, pool: WorkerPool) -> Double? {
        guard threadBudget >= 2, jobs > 0, batches > 0 else { return nil }
        let started = Started()
        let clock = ContinuousClock()
        /// One job; false if it could not run or its second part was not handed over.
        func handOff() -> Bool {
            started.flag.store(false, ordering: .relaxed)
            var handed = true
            let ran = pool.run(parts: 2, helpers: 1, callerRunsFirstPart: true) { part in
                if part == 0 {
                    let deadline = clock.now.advanced(by: .milliseconds(10))
                    var spins = 0
                    while !started.flag.load(ordering: .acquiring) {
                        spins &+= 1
                        if spins & 1023 == 0 && clock.now > deadline { handed = false; return }
                        spinHint()
                    }
                } else {
                    started.flag.store(true, ordering: .releasing)
                }
            }
            return ran && handed
        }
        for _ in 0..<jobs { _ = handOff() }
        var times: [Double] = []
        for _ in 0..<batches {
            var handed = true
            let elapsed = clock.measure {
                for _ in 0..<jobs where handed { handed = handOff() }
            }
            guard handed else { return nil }
            let (seconds, attoseconds) = elapsed.components
            times.append((Double(seconds) * 1e6 + Double(attoseconds) / 1e12) / Double(jobs))
        }
        return times.sorted()[times.count / 2]
    }

    /// Whether the helper's part has started.
    private final class Started: Sendable {
        let flag = Atomic<Bool>(false)
    }
}
