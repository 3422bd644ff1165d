/// A user-facing failure: one line saying what was wrong and, where it helps, what to do.
public struct NTTError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
