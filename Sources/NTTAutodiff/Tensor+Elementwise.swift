import NTTKernels

// Elementwise arithmetic with NumPy broadcasting. Each operation's pullback sits next to it and
// is written with tensor operations, so it can be differentiated again.

extension Tensor {
    /// Applies `op` to equal-shaped operands (after broadcasting both to the common shape).
    @inline(__always)
    private static func binary(_ a: Tensor, _ b: Tensor, _ name: String,
                               _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
                                          Int) -> Void)
        -> (Tensor, Tensor, [Float]) {
        var a = a, b = b
        if a.shape != b.shape {
            let shape = ShapeRules.require({ () throws(ShapeError) in
                try ShapeRules.broadcast(a.shape, b.shape)
            }, name)
            if a.shape != shape { a = a.broadcast(to: shape) }
            if b.shape != shape { b = b.broadcast(to: shape) }
        }
        let n = a.count
        let out = make(a.shape) { o in
            a.withPointer { pa in b.withPointer { pb in kernel(pa, pb, o, n) } }
        }
        return (a, b, out)
    }

    @inline(__always)
    private func unary(_ op: (Float) -> Float) -> [Float] {
        let n = count
        return Tensor.make(shape) { o in withPointer { p in for i in 0..<n { o[i] = op(p[i]) } } }
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (a, b, out) = binary(lhs, rhs, "+") { Elementwise.add($0, $1, into: $2, count: $3) }
        return recorded(a.shape, out, inputs: [a, b]) { g in [g, g] }
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (a, b, out) = binary(lhs, rhs, "-") { Elementwise.subtract($0, $1, into: $2, count: $3) }
        return recorded(a.shape, out, inputs: [a, b]) { g in [g, -g] }
    }

    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.shape != rhs.shape {
            let shape = ShapeRules.require({ () throws(ShapeError) in
                try ShapeRules.broadcast(lhs.shape, rhs.shape)
            }, "*")
            if let product = broadcastProduct(lhs, rhs, shape: shape) { return product }
        }
        let (a, b, out) = binary(lhs, rhs, "*") { Elementwise.multiply($0, $1, into: $2, count: $3) }
        return recorded(a.shape, out, inputs: [a, b]) { g in
            [a.node == nil ? nil : g * b, b.node == nil ? nil : g * a]
        }
    }

    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (a, b, out) = binary(lhs, rhs, "/") { Elementwise.divide($0, $1, into: $2, count: $3) }
        return recorded(a.shape, out, inputs: [a, b]) { g in
            [a.node == nil ? nil : g / b, b.node == nil ? nil : -(g * a) / (b * b)]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        recorded(x.shape, x.unary { -$0 }, inputs: [x]) { g in [-g] }
    }

    public static func * (lhs: Tensor, rhs: Float) -> Tensor {
        recorded(lhs.shape, lhs.unary { $0 * rhs }, inputs: [lhs]) { g in [g * rhs] }
    }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor {
        recorded(lhs.shape, lhs.unary { $0 + rhs }, inputs: [lhs]) { g in [g] }
    }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + (-rhs) }

    /// eˣ elementwise.
    public func exp() -> Tensor {
        let x = self
        let y = unary { libmExp($0) }
        return Tensor.recorded(shape, y, inputs: [x]) { g in
            // Reuse the saved value unless this pullback is itself being recorded.
            [g * (Recording.isEnabled && x.node != nil ? x.exp() : Tensor(shape: x.shape, scalars: y))]
        }
    }

    /// Natural logarithm elementwise.
    public func log() -> Tensor {
        let x = self
        return Tensor.recorded(shape, unary { libmLog($0) }, inputs: [x]) { g in [g / x] }
    }

    /// x² elementwise.
    public func squared() -> Tensor { self * self }

    /// Σ x² over all elements, a scalar: the same bits as `squared().sum()` from one read, and
    /// a pullback of one pass (2g·x) instead of two products and their sum.
    public func sumOfSquares() -> Tensor {
        let x = self
        let value = withPointer { Strided.sumOfSquares($0, count: x.count) }
        return Tensor.recorded([], [value], inputs: [x]) { g in
            // Recorded (for a higher derivative): differentiable in both g and x.
            if Recording.isEnabled { return [x * (g * 2)] }
            return [x * (2 * g.scalar)]
        }
    }

    /// max(x, 0); the derivative at exactly 0 is 0, as in JAX.
    public func relu() -> Tensor {
        let x = self
        return Tensor.recorded(shape, unary { $0 > 0 ? $0 : 0 }, inputs: [x]) { g in [g.keepingWhere(positive: x)] }
    }

    /// self where `reference` > 0, else 0: `self * reference.positiveMask()` in one pass.
    /// Differentiable in `self` only (the reference's sign pattern is a constant), like that product.
    public func keepingWhere(positive reference: Tensor) -> Tensor {
        precondition(shape == reference.shape, "keepingWhere: shapes \(shape) and \(reference.shape) differ")
        let n = count
        let out = Tensor.make(shape) { o in withPointer { g in reference.withPointer { r in
            Parallel.forEachRange(of: n, work: 1) { range in
                Strided.keepWherePositive(g + range.lowerBound, reference: r + range.lowerBound,
                                          into: o + range.lowerBound, count: range.count)
            }
        } } }
        return Tensor.recorded(shape, out, inputs: [self]) { g in [g.keepingWhere(positive: reference)] }
    }

    /// 1 where x > 0, else 0; a constant (not differentiated through).
    public func positiveMask() -> Tensor {
        Tensor(shape: shape, scalars: unary { $0 > 0 ? 1 : 0 })
    }
}

// Single-precision libm entry points without importing Foundation into this module's API.
#if canImport(Glibc)
import Glibc
@inline(__always) func libmExp(_ x: Float) -> Float { expf(x) }
@inline(__always) func libmLog(_ x: Float) -> Float { logf(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func libmExp(_ x: Float) -> Float { expf(x) }
@inline(__always) func libmLog(_ x: Float) -> Float { logf(x) }
#endif
