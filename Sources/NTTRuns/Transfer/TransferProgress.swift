/// Progress of a running transfer, for a progress bar.
public struct TransferProgress: Sendable {
    public var iteration: Int
    public var total: Int
    /// The NTK distance at the latest probe record.
    public var ntkDistance: Double
}
