import Synchronization

/// A request to stop a long run between iterations, so that it can checkpoint and return.
/// Runs are handed one (they never look at signals themselves); the CLI raises it on SIGINT and
/// SIGTERM, a Swift caller from wherever it likes. Atomic stores are async-signal-safe.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { flag.load(ordering: .relaxed) }
    public func set() { flag.store(true, ordering: .relaxed) }
    public func reset() { flag.store(false, ordering: .relaxed) }
}
