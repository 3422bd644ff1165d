/// Pooling windows over NHWC images.
package enum Pooling {
    /// For each output element of a max-pool, the flat input index of its maximum, and, when
    /// `values` is given, the maximum itself. Ties go to the *first* maximal element in
    /// row-major window order, as XLA's select-and-scatter does; a NaN wins over numbers (the
    /// first NaN); padded positions (for `same`) never win.
    package static func maxIndices(_ x: UnsafePointer<Float>, _ g: WindowGeometry,
                                  into indices: UnsafeMutablePointer<Int32>,
                                  values: UnsafeMutablePointer<Float>? = nil) {
        let (c, height, width) = (g.channels, g.height, g.width)
        let (kh, kw, sh, sw, padTop, padLeft) = (g.windowHeight, g.windowWidth, g.strideHeight, g.strideWidth,
                                                 g.padTop, g.padLeft)
        let outPerImage = g.outHeight * g.outWidth * c
        // Images are independent: they are shared out between threads.
        Parallel.forEachRange(of: g.batch, work: outPerImage * kh * kw) { images in
            var o = images.lowerBound * outPerImage
            for b in images {
                let base = b &* height &* width &* c
                for oy in 0..<g.outHeight {
                    let y0 = max(oy &* sh &- padTop, 0), y1 = min(oy &* sh &- padTop &+ kh, height)
                    for ox in 0..<g.outWidth {
                        let x0 = max(ox &* sw &- padLeft, 0), x1 = min(ox &* sw &- padLeft &+ kw, width)
                        let window = Window(base: base, y0: y0, y1: y1, x0: x0, x1: x1, width: width, channels: c)
                        // Channels are innermost and contiguous: eight channels at a time, their
                        // running maxima and indices kept in registers over the window.
                        var ch = 0
                        while ch + 8 <= c {
                            argmax8(x, window, channel: ch, indices: indices + o + ch,
                                    values: values.map { $0 + o + ch })
                            ch += 8
                        }
                        if ch < c && c >= 8 {
                            // The last eight channels, overlapping channels already done (same result).
                            argmax8(x, window, channel: c - 8, indices: indices + o + c - 8,
                                    values: values.map { $0 + o + c - 8 })
                            ch = c
                        }
                        while ch < c {
                            argmax1(x, window, channel: ch, indices: indices + o + ch,
                                    values: values.map { $0 + o + ch })
                            ch += 1
                        }
                        o += c
                    }
                }
            }
        }
    }

    /// Where a max-pool's argmax positions sit: `indices` from `maxIndices` over `images` images
    /// of `imageSize` input and `outPerImage` output elements (each image's indices point into
    /// that image), used for a batch in which every image appears `repeats` times in a row
    /// (row r of the batch is image r / repeats), as the NTK's cotangents are.
    package struct ArgmaxLayout: Sendable {
        package var images: Int, imageSize: Int, outPerImage: Int, repeats: Int
        package init(images: Int, imageSize: Int, outPerImage: Int, repeats: Int = 1) {
            self.images = images; self.imageSize = imageSize; self.outPerImage = outPerImage; self.repeats = repeats
        }
        package init(_ g: WindowGeometry, repeats: Int = 1) {
            self.init(images: g.batch, imageSize: g.height * g.width * g.channels,
                      outPerImage: g.outHeight * g.outWidth * g.channels, repeats: repeats)
        }
        /// Rows of the repeated batch.
        package var rows: Int { images * repeats }
    }

    /// The adjoint of a max-pool: dx = 0, then dx[position of o] += dy[o], row by row of the
    /// repeated batch (rows are shared out between threads; within a row the order is fixed).
    /// dy is [rows, outPerImage], dx [rows, imageSize].
    package static func maxAdjoint(_ dy: UnsafePointer<Float>, indices: UnsafePointer<Int32>, _ l: ArgmaxLayout,
                                  into dx: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(of: l.rows, work: l.outPerImage + l.imageSize) { rows in
            (dx + rows.lowerBound * l.imageSize).update(repeating: 0, count: rows.count * l.imageSize)
            for r in rows {
                let image = r / l.repeats, shift = (r - image) * l.imageSize
                let positions = indices + image * l.outPerImage, source = dy + r * l.outPerImage
                let target = dx + shift
                for o in 0..<l.outPerImage { target[Int(positions[o])] += source[o] }
            }
        }
    }

    /// The transpose of `maxAdjoint`: y[r, o] = x[row r's position of o]. x is [rows, imageSize],
    /// y [rows, outPerImage].
    package static func maxGather(_ x: UnsafePointer<Float>, indices: UnsafePointer<Int32>, _ l: ArgmaxLayout,
                                 into y: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(of: l.rows, work: l.outPerImage) { rows in
            for r in rows {
                let image = r / l.repeats, shift = (r - image) * l.imageSize
                let positions = indices + image * l.outPerImage, target = y + r * l.outPerImage
                let source = x + shift
                for o in 0..<l.outPerImage { target[o] = source[Int(positions[o])] }
            }
        }
    }

    /// The input rows [y0, y1) × columns [x0, x1) of one window of image `base`.
    struct Window {
        let base: Int, y0: Int, y1: Int, x0: Int, x1: Int, width: Int, channels: Int
        /// (Unchecked arithmetic: the index of a pixel of the image.)
        @inline(__always) func start(_ iy: Int, _ ix: Int) -> Int { base &+ (iy &* width &+ ix) &* channels }
    }

    /// Argmax over one window for the eight channels from `channel`.
    @inline(__always)
    static func argmax8(_ x: UnsafePointer<Float>, _ w: Window, channel: Int,
                        indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>?) {
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        guard w.y0 < w.y1 && w.x0 < w.x1 else { return empty(8, indices, values) }
        let first = w.start(w.y0, w.x0) &+ channel
        var best = UnsafeRawPointer(x + first).loadUnaligned(as: SIMD8<Float>.self)
        var index = lanes &+ Int32(truncatingIfNeeded: first)
        for iy in w.y0..<w.y1 {
            for ix in w.x0..<w.x1 where iy != w.y0 || ix != w.x0 {
                let start = w.start(iy, ix) &+ channel
                let v = UnsafeRawPointer(x + start).loadUnaligned(as: SIMD8<Float>.self)
                // Strictly greater (ties keep the first), and a NaN wins once.
                let wins = (v .> best) .| ((v .!= v) .& (best .== best))
                best.replace(with: v, where: wins)
                index.replace(with: lanes &+ Int32(truncatingIfNeeded: start), where: wins)
            }
        }
        UnsafeMutableRawPointer(indices).storeBytes(of: index, as: SIMD8<Int32>.self)
        if let values { UnsafeMutableRawPointer(values).storeBytes(of: best, as: SIMD8<Float>.self) }
    }

    /// Argmax over one window for one channel.
    @inline(__always)
    static func argmax1(_ x: UnsafePointer<Float>, _ w: Window, channel: Int,
                        indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>?) {
        guard w.y0 < w.y1 && w.x0 < w.x1 else { return empty(1, indices, values) }
        var index = w.start(w.y0, w.x0) &+ channel
        var best = x[index]
        for iy in w.y0..<w.y1 {
            for ix in w.x0..<w.x1 where iy != w.y0 || ix != w.x0 {
                let start = w.start(iy, ix) &+ channel
                let v = x[start]
                let wins = v > best || (v.isNaN && !best.isNaN)
                best = wins ? v : best
                index = wins ? start : index
            }
        }
        indices[0] = Int32(truncatingIfNeeded: index)
        values?[0] = best
    }

    /// An empty window (cannot happen with a valid geometry): index 0, value 0.
    static func empty(_ count: Int, _ indices: UnsafeMutablePointer<Int32>, _ values: UnsafeMutablePointer<Float>?) {
        for i in 0..<count { indices[i] = 0; values?[i] = 0 }
    }

    /// Average pooling; with `same` padding the divisor counts only positions inside the image
    /// (as `jax.example_libraries.stax.AvgPool` does by normalising with a pooled ones image).
    /// `adjoint` computes the transpose map: output cotangents → input cotangents.
    package static func average(_ x: UnsafePointer<Float>, _ g: WindowGeometry,
                               into out: UnsafeMutablePointer<Float>) {
        walkWindows(g) { o, idx, weight in out[o] += weight * x[idx] } prepare: {
            out.update(repeating: 0, count: g.batch * g.outHeight * g.outWidth * g.channels)
        }
    }

    package static func averageAdjoint(_ y: UnsafePointer<Float>, _ g: WindowGeometry,
                                      into x: UnsafeMutablePointer<Float>) {
        walkWindows(g) { o, idx, weight in x[idx] += weight * y[o] } prepare: {
            x.update(repeating: 0, count: g.inputCount)
        }
    }

    private static func walkWindows(_ g: WindowGeometry, _ body: (Int, Int, Float) -> Void,
                                    prepare: () -> Void) {
        prepare()
        let c = g.channels
        var o = 0
        for b in 0..<g.batch {
            let base = b * g.height * g.width * c
            for oy in 0..<g.outHeight {
                let y0 = max(oy * g.strideHeight - g.padTop, 0)
                let y1 = min(oy * g.strideHeight - g.padTop + g.windowHeight, g.height)
                for ox in 0..<g.outWidth {
                    let x0 = max(ox * g.strideWidth - g.padLeft, 0)
                    let x1 = min(ox * g.strideWidth - g.padLeft + g.windowWidth, g.width)
                    let weight = 1 / Float(max((y1 - y0) * (x1 - x0), 1))
                    for ch in 0..<c {
                        for iy in y0..<max(y0, y1) {
                            for ix in x0..<max(x0, x1) { body(o, base &+ (iy &* g.width &+ ix) &* c &+ ch, weight) }
                        }
                        o += 1
                    }
                }
            }
        }
    }
}
