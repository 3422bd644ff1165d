/// Why a shape is not acceptable to an operation. Tensor operations trap with this message
/// (shape errors inside model code are programming errors, like an array index out of range);
/// code that handles untrusted shapes calls the `check…` functions and throws instead.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
