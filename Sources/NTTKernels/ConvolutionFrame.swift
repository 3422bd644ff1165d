/// One image of a stride-1 convolution held channel by channel in its padded frame, as
/// `SparseConvolution` computes on it: input planes of Hp × Wp (Hp = oh + kh − 1, Wp = ow + kw − 1,
/// the image at (padTop, padLeft), zeros around it), and output planes laid out at the frame's
/// width, output (oy, ox) at oy·Wp + ox.
struct ConvolutionFrame {
    /// Hp and Wp.
    let height: Int, width: Int
    /// Frame positions from the first output to the last: (oh − 1)·Wp + ow.
    let run: Int
    /// `run` rounded up to a multiple of 8: the floats per output plane.
    let lanes: Int
    /// Floats per input plane: Hp·Wp and room for `lanes` floats read or written from any window
    /// shift (at most Hp·Wp + 6 floats in), a multiple of 8.
    let plane: Int

    init(_ g: WindowGeometry) {
        height = g.outHeight + g.windowHeight - 1
        width = g.outWidth + g.windowWidth - 1
        run = (g.outHeight - 1) * width + g.outWidth
        lanes = (run + 7) & ~7
        plane = (height * width + 15) & ~7
    }

    /// Where patch column p = (u·kw + v)·cin + ci reads: channel ci's plane, shifted by (u, v).
    func offset(ofPatchColumn p: Int, _ g: WindowGeometry) -> Int {
        let ci = p % g.channels, shift = p / g.channels
        return ci * plane + (shift / g.windowWidth) * width + shift % g.windowWidth
    }

    /// One NHWC image [H, W, cin] into its frame's planes [cin][plane], zeros around the image.
    func load(_ x: UnsafePointer<Float>, _ g: WindowGeometry, into planes: UnsafeMutablePointer<Float>) {
        let cin = g.channels
        if height == g.height && width == g.width {
            let filled = height * width
            for ci in 0..<cin { (planes + ci * plane + filled).update(repeating: 0, count: plane - filled) }
        } else {
            planes.update(repeating: 0, count: cin * plane)
        }
        var source = x
        for iy in 0..<g.height {
            let row = planes + (iy + g.padTop) * width + g.padLeft
            for ix in 0..<g.width {
                for ci in 0..<cin { row[ci &* plane &+ ix] = source[ci] }
                source += cin
            }
        }
    }

    /// The frame's planes [cin][plane] back to an NHWC image [H, W, cin] (overwritten); the
    /// padding is dropped.
    func unload(_ planes: UnsafePointer<Float>, _ g: WindowGeometry, into x: UnsafeMutablePointer<Float>) {
        let cin = g.channels
        var target = x
        for iy in 0..<g.height {
            let row = planes + (iy + g.padTop) * width + g.padLeft
            for ix in 0..<g.width {
                for ci in 0..<cin { target[ci] = row[ci &* plane &+ ix] }
                target += cin
            }
        }
    }

    /// One image's outputs [oh·ow, c] into output planes [c][lanes], zero at the frame's extra
    /// columns and past `run`.
    func loadOutputs(_ y: UnsafePointer<Float>, _ g: WindowGeometry, channels c: Int,
                     into planes: UnsafeMutablePointer<Float>) {
        planes.update(repeating: 0, count: c * lanes)
        var source = y
        for oy in 0..<g.outHeight {
            let row = planes + oy * width
            for ox in 0..<g.outWidth {
                for ch in 0..<c { row[ch &* lanes &+ ox] = source[ch] }
                source += c
            }
        }
    }

    /// Output planes [c][lanes] to one image's outputs [oh·ow, c] (overwritten).
    func store(_ planes: UnsafePointer<Float>, _ g: WindowGeometry, channels c: Int,
               into y: UnsafeMutablePointer<Float>) {
        var target = y
        for oy in 0..<g.outHeight {
            let row = planes + oy * width
            for ox in 0..<g.outWidth {
                for ch in 0..<c { target[ch] = row[ch &* lanes &+ ox] }
                target += c
            }
        }
    }
}
