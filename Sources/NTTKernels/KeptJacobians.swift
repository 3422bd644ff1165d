/// Both sides' per-sample Jacobians of a chunked Gram (`PooledJacobianGram`), kept from its
/// forward pass for its pullback so that the pullback does not build them a second time. Each
/// side holds its rows (i, a) over all K·c columns, stored chunk by chunk as the chunk loop uses
/// them: the block [rows, (hi − lo)·c] of chunk lo..<hi of patch entries starts at rows·lo·c.
package struct KeptJacobians {
    package var one: UnsafeMutablePointer<Float>
    package var two: UnsafeMutablePointer<Float>

    package init(one: UnsafeMutablePointer<Float>, two: UnsafeMutablePointer<Float>) {
        self.one = one; self.two = two
    }

    /// Floats one side of `rows` rows needs.
    package static func count(rows: Int, _ z: SampleJacobianGram.Sizes) -> Int {
        rows * z.patchSize * z.channels
    }

    /// The blocks of `chunk` in both sides, of m and n rows and c channels.
    func blocks(_ chunk: Range<Int>, rows m: Int, _ n: Int, channels c: Int)
        -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        (one + m * chunk.lowerBound * c, two + n * chunk.lowerBound * c)
    }
}
