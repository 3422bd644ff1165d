import Synchronization
#if canImport(Glibc)
import Glibc
import CMalloc
#endif

/// Helper threads that wait for parts to run: they spin briefly after each job (waking a parked
/// thread costs tens of microseconds on a virtual machine, as long as a small part), then park
/// on a condition variable. One job at a time; the caller runs parts too and returns as soon
/// as every part has finished, without waiting for helpers that never got one.
///
/// A job started while one runs (by a thread running one of its parts, e.g. one side of
/// `Parallel.overlapping`) can go to a second slot, the *nested* job (`runNested`): its caller
/// runs its parts, and the running job's participants that have nothing left to do (its caller
/// waiting for the last part, helpers within its budget between parts) take some. So when one
/// side of an overlapping pair finishes first, its thread helps with the other side's products
/// instead of waiting. One nested job at a time; inside it, further jobs run in order.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()
    static let maximumParts = 0xFFFF

    /// The job being run: generation (high 32 bits), part count (16 bits), next unclaimed part (16 bits).
    private let ticket = Atomic<UInt64>(0)
    private let completed = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    /// Helpers that may take parts of the current job (its caller's budget less one): those
    /// with a higher index sit it out.
    private let helpersWanted = Atomic<Int>(0)
    /// The body of the current job (an `Unmanaged<Job>`), valid while one of its parts is unfinished.
    private let job = Atomic<UInt>(0)
    /// The nested job's state, as the four above for the running job; `nestedSeats` counts the
    /// threads besides its caller that may still join it (its caller's budget less one).
    private let nestedTicket = Atomic<UInt64>(0)
    private let nestedCompleted = Atomic<Int>(0)
    private let nestedBusy = Atomic<Bool>(false)
    private let nestedSeats = Atomic<Int>(0)
    private let nestedJob = Atomic<UInt>(0)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Helper threads started so far (they are never stopped); changed only under `busy`.
    private var started = 0
    private var generation: UInt64 = 0
    /// Changed only under `nestedBusy`.
    private var nestedGeneration: UInt64 = 0

    final class Job {
        let body: (Int) -> Void
        init(_ body: @escaping (Int) -> Void) { self.body = body }
    }

    /// A pool of its own (tests); everything else shares `shared`.
    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Runs the job with up to `helpers` helper threads; false (nothing run) when busy. With
    /// `callerRunsFirstPart`, part 0 is the caller's own (it never runs on a helper) and the
    /// helpers start at part 1.
    func run(parts: Int, helpers: Int, callerRunsFirstPart: Bool = false, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        while started < helpers { startHelper(index: started); started += 1 }
        withoutActuallyEscaping(body) { body in
            var current: Job? = Job(body)
            helpersWanted.store(helpers, ordering: .relaxed)  // published by the ticket's store
            let g = Self.publish(current!, parts: parts, firstTaken: callerRunsFirstPart, generation: &generation,
                                 job: job, completed: completed, ticket: ticket)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            if callerRunsFirstPart {
                body(0)
                completed.add(1, ordering: .releasing)
            }
            Self.runClaimed(ticket, generation: g, completed: completed, body)
            // Waiting for the last parts, the caller helps with the nested job, if any (started
            // by one of them).
            while completed.load(ordering: .acquiring) < parts { if !helpNested() { spinHint() } }
            current = nil  // helpers hold no reference once their parts are done (see `runPart`)
        }
        return true
    }

    /// Runs the job as the nested job, with up to `helpers` other threads (participants of the
    /// running job with nothing left to do); false (nothing run) when the nested slot is taken.
    func runNested(parts: Int, helpers: Int, _ body: (Int) -> Void) -> Bool {
        guard nestedBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { nestedBusy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            var current: Job? = Job(body)
            nestedSeats.store(helpers, ordering: .relaxed)  // published by the ticket's store
            let g = Self.publish(current!, parts: parts, firstTaken: false, generation: &nestedGeneration,
                                 job: nestedJob, completed: nestedCompleted, ticket: nestedTicket)
            Self.runClaimed(nestedTicket, generation: g, completed: nestedCompleted, body)
            while nestedCompleted.load(ordering: .acquiring) < parts { spinHint() }
            current = nil
        }
        return true
    }

    /// Runs parts of the nested job while it has some left, if a seat is free; whether any ran.
    /// (A thread that read an older nested job's ticket may take a seat of the next one and then
    /// claim nothing: that job gets one helper fewer, nothing worse.)
    private func helpNested() -> Bool {
        let t = nestedTicket.load(ordering: .acquiring)
        guard (t >> 16) & 0xFFFF > t & 0xFFFF else { return false }
        var seats = nestedSeats.load(ordering: .relaxed)
        while true {
            guard seats > 0 else { return false }
            let (exchanged, original) = nestedSeats.compareExchange(expected: seats, desired: seats - 1,
                                                                    ordering: .relaxed)
            if exchanged { break }
            seats = original
        }
        return Self.runClaimed(nestedTicket, generation: t >> 32, completed: nestedCompleted) {
            Self.runPart(of: nestedJob, $0)
        }
    }

    /// Makes `current` the next generation of a slot's job (returned), of `parts` parts (part 0
    /// already taken with `firstTaken`), none completed. What the claimers must see with it is
    /// stored before.
    private static func publish(_ current: Job, parts: Int, firstTaken: Bool, generation: inout UInt64,
                                job: borrowing Atomic<UInt>, completed: borrowing Atomic<Int>,
                                ticket: borrowing Atomic<UInt64>) -> UInt64 {
        generation = (generation + 1) & 0xFFFF_FFFF
        job.store(UInt(bitPattern: Unmanaged.passUnretained(current).toOpaque()), ordering: .releasing)
        completed.store(0, ordering: .relaxed)
        ticket.store(generation << 32 | UInt64(parts) << 16 | (firstTaken ? 1 : 0), ordering: .sequentiallyConsistent)
        return generation
    }

    /// Claims and runs parts of generation `g` of a slot's job on this thread while any are left,
    /// counting each in `completed` when done; whether any ran.
    @discardableResult
    private static func runClaimed(_ ticket: borrowing Atomic<UInt64>, generation g: UInt64,
                                   completed: borrowing Atomic<Int>, _ body: (Int) -> Void) -> Bool {
        var ran = false
        while let part = claim(ticket, generation: g) {
            body(part)
            completed.add(1, ordering: .releasing)
            ran = true
        }
        return ran
    }

    /// Takes the next unclaimed part of generation `g` of a slot's ticket, if any.
    private static func claim(_ ticket: borrowing Atomic<UInt64>, generation g: UInt64) -> Int? {
        var t = ticket.load(ordering: .acquiring)
        while true {
            let parts = (t >> 16) & 0xFFFF, next = t & 0xFFFF
            guard t >> 32 == g, next < parts else { return nil }
            let (exchanged, original) = ticket.compareExchange(expected: t, desired: t + 1,
                                                               ordering: .acquiringAndReleasing)
            if exchanged { return Int(next) }
            t = original
        }
    }

    private func helperLoop(index: Int) {
        var seen = ticket.load(ordering: .acquiring) >> 32
        while true {
            var spins = 0
            var t = ticket.load(ordering: .acquiring)
            while t >> 32 == seen {
                spins += 1
                // Between jobs, a participant of the last one helps with a nested job, if any.
                if index < helpersWanted.load(ordering: .relaxed) && helpNested() {
                    spins = 0
                } else if spins < 200_000 { spinHint() } else {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while ticket.load(ordering: .sequentiallyConsistent) >> 32 == seen {
                        pthread_cond_wait(condition, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                    spins = 0
                }
                t = ticket.load(ordering: .acquiring)
            }
            seen = t >> 32
            // Helpers beyond the job's budget sit it out. (Should they read the count of a later
            // job, this one has no parts left to claim.)
            guard index < helpersWanted.load(ordering: .relaxed) else { continue }
            Self.runClaimed(ticket, generation: seen, completed: completed) { Self.runPart(of: job, $0) }
        }
    }

    /// Runs one claimed part of a slot's current job; every reference to the job ends with this call.
    @inline(never)
    private static func runPart(of job: borrowing Atomic<UInt>, _ part: Int) {
        Unmanaged<Job>.fromOpaque(UnsafeRawPointer(bitPattern: job.load(ordering: .acquiring))!)
            ._withUnsafeGuaranteedRef { $0.body(part) }
    }

    private func startHelper(index: Int) {
        final class Start {
            let pool: WorkerPool; let index: Int
            init(_ p: WorkerPool, _ i: Int) { pool = p; index = i }
        }
        let context = Unmanaged.passRetained(Start(self, index)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
            start.pool.helperLoop(index: start.index)
            return nil
        }, context)
        precondition(status == 0, "Parallel: could not start a helper thread (pthread_create returned \(status))")
        pthread_detach(thread)
    }
}

/// The CPU's hint for a spin-wait loop (x86 `pause`), which also frees the core's pipeline.
@inline(__always)
func spinHint() {
    #if canImport(Glibc)
    ntt_spin_pause()
    #endif
}
