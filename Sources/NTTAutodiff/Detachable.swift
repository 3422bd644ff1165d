/// A value made of tensors that can be cut from the tape: the auxiliary results of
/// `valueAndGradient(at:ofValueAndAux:)` leave the computation detached, so they neither keep
/// the tape alive nor get differentiated by an enclosing derivative.
public protocol Detachable {
    /// The same value with every tensor untracked.
    var detached: Self { get }
}

extension Tensor: Detachable {}

extension Array: Detachable where Element: Detachable {
    public var detached: [Element] { map(\.detached) }
}
