import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM (after `installSignalHandlers`), polled by long loops between
/// iterations so they can checkpoint and exit cleanly. Atomic stores are async-signal-safe.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { flag.load(ordering: .relaxed) }
    public func set() { flag.store(true, ordering: .relaxed) }
    public func reset() { flag.store(false, ordering: .relaxed) }

    /// The process-wide flag raised by SIGINT and SIGTERM.
    public static let interrupt = StopFlag()

    /// Routes SIGINT and SIGTERM to `StopFlag.interrupt`. A second signal exits immediately.
    public static func installSignalHandlers() {
        let handler: @convention(c) (Int32) -> Void = { signal in
            if StopFlag.interrupt.isSet { _exit(128 + signal) }
            StopFlag.interrupt.set()
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started us with these signals blocked (the mask survives exec).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
