import NTTKernels

extension Tensor {
    /// Elements at flat positions `indices` (shape `outShape`); its pullback scatter-adds.
    public func gathering(_ indices: [Int32], shape outShape: [Int]) -> Tensor {
        precondition(outShape.reduce(1, *) == indices.count,
                     "gathering: \(indices.count) indices for shape \(outShape)")
        let n = indices.count, inShape = shape, size = count
        let out = Tensor.make(outShape) { o in
            withPointer { p in for i in 0..<n {
                let j = Int(indices[i])
                precondition(j >= 0 && j < size, "gathering: index \(j) out of range 0..<\(size)")
                o[i] = p[j]
            } }
        }
        return Tensor.recorded(outShape, out, inputs: [self]) { g in [g.scattering(indices, shape: inShape)] }
    }

    /// A zero tensor of `outShape` with self's elements added at flat positions `indices`.
    public func scattering(_ indices: [Int32], shape outShape: [Int]) -> Tensor {
        precondition(count == indices.count, "scattering: \(indices.count) indices for \(count) elements")
        let n = indices.count, size = outShape.reduce(1, *), inShape = shape
        let out = Tensor.make(outShape) { o in
            o.update(repeating: 0, count: size)
            withPointer { p in for i in 0..<n {
                let j = Int(indices[i])
                precondition(j >= 0 && j < size, "scattering: index \(j) out of range 0..<\(size)")
                o[j] += p[i]
            } }
        }
        return Tensor.recorded(outShape, out, inputs: [self]) { g in [g.gathering(indices, shape: inShape)] }
    }

    private func windowGeometry(_ window: (Int, Int), _ strides: (Int, Int), _ padding: Padding,
                                _ op: String) -> WindowGeometry {
        precondition(rank == 4, "\(op): needs an NHWC tensor of rank 4, got shape \(shape)")
        precondition(window.0 > 0 && window.1 > 0 && strides.0 > 0 && strides.1 > 0,
                     "\(op): window and stride must be positive")
        let g = WindowGeometry(batch: shape[0], height: shape[1], width: shape[2], channels: shape[3],
                               windowHeight: window.0, windowWidth: window.1,
                               strideHeight: strides.0, strideWidth: strides.1, padding: padding)
        precondition(g.outHeight > 0 && g.outWidth > 0,
                     "\(op): a \(window.0)×\(window.1) window does not fit a "
                         + "\(shape[1])×\(shape[2]) input with \(padding) padding")
        return g
    }

    /// Max-pooling over NHWC windows. The derivative goes to the first maximal element of each
    /// window in row-major order (as XLA), implemented as a gather at the argmax positions, so
    /// its derivatives of every order are exact.
    public func maxPool(window: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Tensor {
        maxPool(windowGeometry(window, strides ?? window, padding, "maxPool")).value
    }

    /// Max-pooling over the windows of `g` (which must match this tensor's shape), with the flat
    /// argmax positions it gathered from. The same operation as `gathering(indices, …)`, with the
    /// maxima taken in the same sweep as their positions.
    package func maxPool(_ g: WindowGeometry) -> (value: Tensor, indices: [Int32]) {
        precondition(shape == [g.batch, g.height, g.width, g.channels],
                     "maxPool: shape \(shape) does not match the window geometry")
        let outShape = [g.batch, g.outHeight, g.outWidth, g.channels], inShape = shape
        let n = outShape.reduce(1, *)
        var indices = [Int32](repeating: 0, count: n)
        let out = Tensor.make(outShape) { o in
            withPointer { p in indices.withUnsafeMutableBufferPointer {
                Pooling.maxIndices(p, g, into: $0.baseAddress!, values: o)
            } }
        }
        let positions = indices, layout = Pooling.ArgmaxLayout(g)
        let value = Tensor.recorded(outShape, out, inputs: [self]) { grad in
            [grad.maxPoolAdjoint(positions, layout).reshaped(inShape)]
        }
        return (value, indices)
    }

    /// The adjoint of a max-pool with argmax `positions` (laid out as `layout` says): this
    /// tensor's rows [rows, …pooled] scattered onto zeros [rows, …input]. Rows are shared out
    /// between threads; `gathering`/`scattering` with explicit indices do the same serially.
    package func maxPoolAdjoint(_ positions: [Int32], _ layout: Pooling.ArgmaxLayout) -> Tensor {
        precondition(positions.count == layout.images * layout.outPerImage
                         && count == layout.rows * layout.outPerImage && rank >= 1 && shape[0] == layout.rows,
                     "maxPoolAdjoint: shape \(shape) and \(positions.count) positions do not match the layout")
        return argmaxMap(positions, to: [layout.rows, layout.imageSize],
                         { Pooling.maxAdjoint($0, indices: $1, layout, into: $2) },
                         pullback: { $0.maxPoolGather(positions, layout) })
    }

    /// The transpose of `maxPoolAdjoint`: from [rows, imageSize] (any shape with that many rows
    /// and elements) the elements at each row's argmax positions, [rows, outPerImage].
    package func maxPoolGather(_ positions: [Int32], _ layout: Pooling.ArgmaxLayout) -> Tensor {
        precondition(positions.count == layout.images * layout.outPerImage && count == layout.rows * layout.imageSize,
                     "maxPoolGather: shape \(shape) and \(positions.count) positions do not match the layout")
        return argmaxMap(positions, to: [layout.rows, layout.outPerImage],
                         { Pooling.maxGather($0, indices: $1, layout, into: $2) },
                         pullback: { $0.maxPoolAdjoint(positions, layout) })
    }

    /// One side of the adjoint pair above: `kernel(self, positions, out)` into a new tensor of
    /// `outShape`, recorded with the other side (reshaped back to this shape) as its pullback.
    private func argmaxMap(_ positions: [Int32], to outShape: [Int],
                           _ kernel: (UnsafePointer<Float>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>) -> Void,
                           pullback: @escaping @Sendable (Tensor) -> Tensor) -> Tensor {
        let inShape = shape
        let out = Tensor.make(outShape) { o in
            withPointer { p in positions.withUnsafeBufferPointer { kernel(p, $0.baseAddress!, o) } }
        }
        return Tensor.recorded(outShape, out, inputs: [self]) { grad in [pullback(grad).reshaped(inShape)] }
    }

    /// Average-pooling over NHWC windows (with `same` padding, only in-image elements count).
    public func avgPool(window: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Tensor {
        avgPool(windowGeometry(window, strides ?? window, padding, "avgPool"))
    }

    package func avgPool(_ g: WindowGeometry) -> Tensor {
        let outShape = [g.batch, g.outHeight, g.outWidth, g.channels]
        let out = Tensor.make(outShape) { o in withPointer { Pooling.average($0, g, into: o) } }
        return Tensor.recorded(outShape, out, inputs: [self]) { grad in [grad.avgPoolAdjoint(g)] }
    }

    package func avgPoolAdjoint(_ g: WindowGeometry) -> Tensor {
        let outShape = [g.batch, g.height, g.width, g.channels]
        let out = Tensor.make(outShape) { o in withPointer { Pooling.averageAdjoint($0, g, into: o) } }
        return Tensor.recorded(outShape, out, inputs: [self]) { grad in [grad.avgPool(g)] }
    }
}
