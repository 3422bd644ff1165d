/// Progress of one running cell, for a progress display.
public struct CellProgress: Sendable {
    public var cell: String
    public var iteration: Int
    public var total: Int
    /// A short status such as "ntk 431.2" or "test 86.10%".
    public var status: String
}
