import NTTKernels

// Shape operations: reshape, permute, broadcast/reduce, batch slicing and concatenation.

extension Tensor {
    /// The same elements viewed with another shape (counts must match).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.allSatisfy { $0 >= 0 } && newShape.reduce(1, *) == count,
                     "reshaped: cannot view \(count) elements of shape \(shape) as \(newShape)")
        if newShape == shape { return self }
        let old = shape
        return Tensor.recorded(newShape, scalars, inputs: [self]) { g in [g.reshaped(old)] }
    }

    /// Axes permuted: result.shape[i] = shape[permutation[i]].
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<rank),
                     "permuted: \(permutation) is not a permutation of the \(rank) axes of shape \(shape)")
        if permutation == Array(0..<rank) { return self }
        let outShape = permutation.map { shape[$0] }
        let out = Tensor.make(outShape) { o in
            withPointer { Strided.permute($0, shape: shape, permutation: permutation, into: o) }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Tensor.recorded(outShape, out, inputs: [self]) { [inverse] g in [g.permuted(inverse)] }
    }

    /// The matrix transpose of a rank-2 tensor.
    public var transposed: Tensor {
        precondition(rank == 2, "transposed: needs a rank-2 tensor, got shape \(shape)")
        return permuted([1, 0])
    }

    /// Copies along axes of size 1 (and new leading axes) to reach `target` (NumPy rules).
    public func broadcast(to target: [Int]) -> Tensor {
        let common = ShapeRules.require({ () throws(ShapeError) in
            try ShapeRules.broadcast(shape, target)
        }, "broadcast")
        precondition(common == target, "broadcast: shape \(shape) cannot be broadcast to \(target)")
        if shape == target { return self }
        let aligned = [Int](repeating: 1, count: target.count - rank) + shape
        let out = Tensor.make(target) { o in
            withPointer { Strided.broadcast($0, from: aligned, to: target, into: o) }
        }
        let original = shape
        return Tensor.recorded(target, out, inputs: [self]) { g in [g.sum(toShape: original)] }
    }

    /// Sums over the axes that `broadcast(to:)` would copy along: the adjoint of broadcasting.
    public func sum(toShape target: [Int]) -> Tensor {
        if target == shape { return self }
        let common = ShapeRules.require({ () throws(ShapeError) in
            try ShapeRules.broadcast(target, shape)
        }, "sum(toShape:)")
        precondition(common == shape, "sum(toShape:): shape \(shape) does not reduce to \(target)")
        let aligned = [Int](repeating: 1, count: rank - target.count) + target
        let out = Tensor.make(target) { o in
            withPointer { Strided.reduceSum($0, from: shape, to: aligned, into: o) }
        }
        let original = shape
        return Tensor.recorded(target, out, inputs: [self]) { g in [g.broadcast(to: original)] }
    }

    /// Sum over the given axes (all axes when `nil`).
    public func sum(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let normalized = (axes ?? Array(0..<rank)).map { a in
            ShapeRules.require({ () throws(ShapeError) in try ShapeRules.axis(a, rank: rank) }, "sum")
        }
        let kept = shape.enumerated().map { normalized.contains($0.offset) ? 1 : $0.element }
        let reduced = sum(toShape: kept)
        if keepingDimensions { return reduced }
        return reduced.reshaped(shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element))
    }

    /// Mean over the given axes (all axes when `nil`).
    public func mean(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let normalized = (axes ?? Array(0..<rank)).map { a in
            ShapeRules.require({ () throws(ShapeError) in try ShapeRules.axis(a, rank: rank) }, "mean")
        }
        let n = normalized.reduce(1) { $0 * shape[$1] }
        precondition(n > 0, "mean: no elements to average over in shape \(shape)")
        return sum(alongAxes: normalized, keepingDimensions: keepingDimensions) * (1 / Float(n))
    }

    /// Rows `range` of axis 0 (the batch axis).
    public func slice(rows range: Range<Int>) -> Tensor {
        precondition(rank >= 1, "slice(rows:): needs rank ≥ 1, got a scalar")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "slice(rows:): rows \(range) out of bounds for axis 0 of size \(shape[0])")
        let rowSize = shape.dropFirst().reduce(1, *)
        var outShape = shape
        outShape[0] = range.count
        if range.count == shape[0] { return self }
        let out = Array(scalars[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)])
        let total = shape[0]
        return Tensor.recorded(outShape, out, inputs: [self]) { g in
            [g.paddedRows(before: range.lowerBound, after: total - range.upperBound)]
        }
    }

    /// Zero rows added before and after along axis 0: the adjoint of `slice(rows:)`.
    public func paddedRows(before: Int, after: Int) -> Tensor {
        precondition(rank >= 1 && before >= 0 && after >= 0, "paddedRows: invalid padding for shape \(shape)")
        if before == 0 && after == 0 { return self }
        let rowSize = shape.dropFirst().reduce(1, *)
        var outShape = shape
        outShape[0] += before + after
        var out = [Float](repeating: 0, count: before * rowSize)
        out.append(contentsOf: scalars)
        out.append(contentsOf: repeatElement(0, count: after * rowSize))
        let rows = shape[0]
        return Tensor.recorded(outShape, out, inputs: [self]) { g in [g.slice(rows: before..<(before + rows))] }
    }

    /// Concatenation along axis 0 (the batch axis); all other axes must agree.
    public static func concatenate(rows tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate(rows:): needs at least one tensor")
        let tail = Array(tensors[0].shape.dropFirst())
        for t in tensors {
            precondition(t.rank >= 1 && Array(t.shape.dropFirst()) == tail,
                         "concatenate(rows:): shape \(t.shape) does not match "
                             + "[_, \(tail.map(String.init).joined(separator: ", "))]")
        }
        if tensors.count == 1 { return tensors[0] }
        let rows = tensors.map { $0.shape[0] }
        var out: [Float] = []
        out.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
        for t in tensors { out.append(contentsOf: t.scalars) }
        return recorded([rows.reduce(0, +)] + tail, out, inputs: tensors) { g in
            var start = 0
            return rows.map { r in
                defer { start += r }
                return g.slice(rows: start..<(start + r))
            }
        }
    }
}
