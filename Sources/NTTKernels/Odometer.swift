/// A row-major position over every axis but the last (which callers run as their inner loop),
/// and the linear offset that goes with it for the given per-axis strides.
struct Odometer {
    private var index: [Int]
    private let extents: [Int], strides: [Int]
    /// Axis rank−2, which moves at every step, is kept out of the arrays (no bounds checks or
    /// array writes on the common step): its index, extent and stride.
    private var lastIndex: Int
    private let last: Int, lastExtent: Int, lastStride: Int
    private(set) var offset: Int

    /// Starts at index `first` of axis 0 and 0 elsewhere.
    init(extents: [Int], strides: [Int], first: Int = 0) {
        self.extents = extents
        self.strides = strides
        index = [Int](repeating: 0, count: extents.count)
        index[0] = first
        offset = first * strides[0]
        last = extents.count - 2
        if last >= 0 {
            (lastIndex, lastExtent, lastStride) = (index[last], extents[last], strides[last])
        } else {
            (lastIndex, lastExtent, lastStride) = (0, .max, 0)  // rank 1: no outer axis moves
        }
    }

    /// The next position of axes 0..<rank-1 in row-major order (unchecked arithmetic: the
    /// offsets are those of elements of the buffer).
    @inline(__always)
    mutating func advance() {
        lastIndex &+= 1
        offset &+= lastStride
        if lastIndex < lastExtent { return }
        offset &-= lastStride &* lastIndex
        lastIndex = 0
        var axis = last &- 1
        while axis >= 0 {
            let i = index[axis] &+ 1
            offset &+= strides[axis]
            if i < extents[axis] { index[axis] = i; return }
            offset &-= strides[axis] &* i
            index[axis] = 0
            axis &-= 1
        }
    }
}
