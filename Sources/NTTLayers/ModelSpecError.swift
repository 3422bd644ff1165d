/// A malformed model spec or a model that does not fit its input; the message points at the
/// offending token or layer.
public struct ModelSpecError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
