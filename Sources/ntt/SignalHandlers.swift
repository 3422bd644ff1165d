import Foundation
import NTTRuns
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's stop flag, raised by SIGINT and SIGTERM and handed to long runs (the library never
/// looks at signals). A second signal exits at once.
enum SignalHandlers {
    static let interrupt = StopFlag()

    /// Routes SIGINT and SIGTERM to `interrupt` and returns it.
    @discardableResult
    static func install() -> StopFlag {
        let handler: @convention(c) (Int32) -> Void = { signal in
            if SignalHandlers.interrupt.isSet { _exit(128 + signal) }
            SignalHandlers.interrupt.set()
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started us with these signals blocked (the mask survives exec).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        return interrupt
    }
}
