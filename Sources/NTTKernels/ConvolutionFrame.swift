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
        if height == g.height && width == g.width {
            let filled = height * width
            for ci in 0..<g.channels { (planes + ci * plane + filled).update(repeating: 0, count: plane - filled) }
        } else {
            planes.update(repeating: 0, count: g.channels * plane)
        }
        scatter(x, rows: g.height, columns: g.width, channels: g.channels, planeSize: plane,
                origin: g.padTop * width + g.padLeft, into: planes)
    }

    /// The frame's planes [cin][plane] back to an NHWC image [H, W, cin] (overwritten); the
    /// padding is dropped.
    func unload(_ planes: UnsafePointer<Float>, _ g: WindowGeometry, into x: UnsafeMutablePointer<Float>) {
        gather(planes, rows: g.height, columns: g.width, channels: g.channels, planeSize: plane,
               origin: g.padTop * width + g.padLeft, into: x)
    }

    /// One image's outputs [oh·ow, c] into output planes [c][lanes], zero at the frame's extra
    /// columns and past `run`.
    func loadOutputs(_ y: UnsafePointer<Float>, _ g: WindowGeometry, channels c: Int,
                     into planes: UnsafeMutablePointer<Float>) {
        planes.update(repeating: 0, count: c * lanes)
        scatter(y, rows: g.outHeight, columns: g.outWidth, channels: c, planeSize: lanes, origin: 0, into: planes)
    }

    /// Output planes [c][lanes] to one image's outputs [oh·ow, c] (overwritten).
    func store(_ planes: UnsafePointer<Float>, _ g: WindowGeometry, channels c: Int,
               into y: UnsafeMutablePointer<Float>) {
        gather(planes, rows: g.outHeight, columns: g.outWidth, channels: c, planeSize: lanes, origin: 0, into: y)
    }

    /// Pixel (r, q, ch) of an NHWC image [rows, columns, c] to planes[ch·planeSize + origin + r·Wp + q].
    private func scatter(_ image: UnsafePointer<Float>, rows: Int, columns: Int, channels c: Int, planeSize: Int,
                         origin: Int, into planes: UnsafeMutablePointer<Float>) {
        var source = image
        for r in 0..<rows {
            let row = planes + origin + r * width
            for q in 0..<columns {
                for ch in 0..<c { row[ch &* planeSize &+ q] = source[ch] }
                source += c
            }
        }
    }

    /// The inverse of `scatter`: planes[ch·planeSize + origin + r·Wp + q] to pixel (r, q, ch).
    private func gather(_ planes: UnsafePointer<Float>, rows: Int, columns: Int, channels c: Int, planeSize: Int,
                        origin: Int, into image: UnsafeMutablePointer<Float>) {
        var target = image
        for r in 0..<rows {
            let row = planes + origin + r * width
            for q in 0..<columns {
                for ch in 0..<c { target[ch] = row[ch &* planeSize &+ q] }
                target += c
            }
        }
    }
}
