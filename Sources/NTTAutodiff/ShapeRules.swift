/// Shape arithmetic of the ops (broadcasting and the checks untrusted shapes go through).
public enum ShapeRules {
    /// NumPy broadcasting: align trailing axes; each pair must be equal or contain a 1.
    public static func broadcast(_ a: [Int], _ b: [Int]) throws(ShapeError) -> [Int] {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(pa, pb) {
            if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else {
                throw ShapeError("shapes \(a) and \(b) cannot be broadcast together (axis sizes \(x) and \(y))")
            }
        }
        return out
    }

    /// Normalises an axis (negative counts from the end) or explains why it is out of range.
    public static func axis(_ axis: Int, rank: Int) throws(ShapeError) -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else {
            throw ShapeError("axis \(axis) is out of range for a tensor of rank \(rank)")
        }
        return a
    }

    /// Checks a matrix product's operands: both rank 2, contracted sizes equal.
    public static func matmul(_ a: [Int], transposeA: Bool, _ b: [Int], transposeB: Bool) throws(ShapeError) -> [Int] {
        guard a.count == 2, b.count == 2 else {
            throw ShapeError("matmul needs rank-2 operands, got shapes \(a) and \(b)")
        }
        let (m, ka) = transposeA ? (a[1], a[0]) : (a[0], a[1])
        let (kb, n) = transposeB ? (b[1], b[0]) : (b[0], b[1])
        guard ka == kb else {
            throw ShapeError("matmul: inner sizes differ (\(ka) vs \(kb)) for shapes "
                                 + "\(a)\(transposeA ? "ᵀ" : "") and \(b)\(transposeB ? "ᵀ" : "")")
        }
        return [m, n]
    }

    static func require<T>(_ body: () throws(ShapeError) -> T, _ op: String) -> T {
        do { return try body() } catch { preconditionFailure("\(op): \(error.description)") }
    }
}
