/// A dense Float32 tensor with value semantics, row-major storage and an optional place on the
/// autodiff tape.
///
/// Every operation on tensors is differentiable (see `Tape.swift`): when any input is tracked
/// and recording is on, the result remembers how to pull cotangents back to its inputs, and
/// those pullbacks are themselves written with tensor operations, so derivatives nest to any
/// order.
///
/// ```swift
/// let x = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
/// let g = gradient(at: x) { x in (x * x).sum() }   // 2x
/// ```
public struct Tensor: Sendable {
    /// The size of each axis; `[]` is a scalar.
    public let shape: [Int]
    /// The elements in row-major order.
    public let scalars: [Float]
    /// Where this value sits on the tape, if it is being differentiated.
    let node: TapeNode?

    /// A tensor with the given shape and elements (count must equal the product of `shape`).
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative axis size in shape \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
        self.node = nil
    }

    init(shape: [Int], scalars: [Float], node: TapeNode?) {
        self.shape = shape
        self.scalars = scalars
        self.node = node
    }

    /// A scalar (rank-0) tensor.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// The number of elements.
    public var count: Int { scalars.count }
    /// The number of axes.
    public var rank: Int { shape.count }
    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(scalars.count == 1,
                     "Tensor.scalar: tensor of shape \(shape) has \(scalars.count) elements, expected 1")
        return scalars[0]
    }
    /// True when this value is being differentiated (it has a node on the tape).
    public var isTracked: Bool { node != nil }

    /// The same values, cut off from the tape: derivatives do not flow through the result.
    public var detached: Tensor { Tensor(shape: shape, scalars: scalars) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(scalars.count > 8 ? ", …" : "")])"
    }
}

extension Tensor {
    /// Builds a result tensor by filling uninitialised storage.
    @inline(__always)
    static func make(_ shape: [Int], _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        let n = shape.reduce(1, *)
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { fill(buffer.baseAddress!) }
            initialized = n
        }
    }

    /// Runs `body` with a pointer to the elements (never nil, even for empty tensors).
    @inline(__always)
    func withPointer<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        scalars.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { return body(base) }
            var dummy: Float = 0
            return withUnsafePointer(to: &dummy) { body($0) }
        }
    }
}

extension Tensor {
    /// Changes the elements in place and cuts the tensor off from the tape. No copy is made when
    /// this tensor holds the only reference to its storage (optimisers rely on that).
    package mutating func withMutableScalars<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let shape = self.shape
        var values = scalars
        self = Tensor(shape: [0], scalars: [])  // drop this tensor's reference: `values` is now unique
        defer { self = Tensor(shape: shape, scalars: values) }
        return try values.withUnsafeMutableBufferPointer { try body($0) }
    }
}
