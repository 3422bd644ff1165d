/// Progress of a running transfer, for a progress bar.
public struct TransferProgress: Sendable {
    public var iteration: Int
    public var total: Int
    /// The NTK distance at the latest probe record.
    public var ntkDistance: Double
    /// Seconds of computing behind this iteration, across interruptions: a resumed run adds its
    /// time to what the checkpoint it starts from had taken (work redone after a kill counts once).
    public var seconds: Double
}
