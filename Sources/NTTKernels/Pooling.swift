/// Pooling windows over NHWC images.
public enum Pooling {
    /// Lane offsets 0…7, for eight channels' indices at a time.
    static let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)

    /// For each output element of a max-pool, the flat input index of its maximum. Ties go to
    /// the *first* maximal element in row-major window order, as XLA's select-and-scatter does;
    /// padded positions (for `same`) never win.
    public static func maxIndices(_ x: UnsafePointer<Float>, _ g: WindowGeometry,
                                  into indices: UnsafeMutablePointer<Int32>) {
        let (c, height, width) = (g.channels, g.height, g.width)
        let (kh, kw, sh, sw, padTop, padLeft) = (g.windowHeight, g.windowWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft)
        // Channels are innermost and contiguous: keep one running maximum per channel and sweep
        // the window positions in row-major order over all channels at once.
        let outPerImage = g.outHeight * g.outWidth * c
        // Images are independent: they are shared out between threads.
        Parallel.forEachRange(of: g.batch, work: outPerImage * kh * kw) { images in
            let best = UnsafeMutablePointer<Float>.allocate(capacity: c)
            defer { best.deallocate() }
            var o = images.lowerBound * outPerImage
            for b in images {
                let base = b * height * width * c
                for oy in 0..<g.outHeight {
                    let y0 = max(oy * sh - padTop, 0), y1 = min(oy * sh - padTop + kh, height)
                    for ox in 0..<g.outWidth {
                        let x0 = max(ox * sw - padLeft, 0), x1 = min(ox * sw - padLeft + kw, width)
                        let out = indices + o
                        var first = true
                        for iy in y0..<y1 {
                            for ix in x0..<x1 {
                                let start = base + (iy * width + ix) * c
                                let row = x + start
                                if first {
                                    for ch in 0..<c { best[ch] = row[ch]; out[ch] = Int32(start + ch) }
                                    first = false
                                    continue
                                }
                                // Strictly greater (ties keep the first), and a NaN wins once; eight
                                // channels at a time as masked selects, then the remaining channels.
                                let start32 = Int32(start)
                                var ch = 0
                                while ch + 8 <= c {
                                    let v = UnsafeRawPointer(row + ch).loadUnaligned(as: SIMD8<Float>.self)
                                    var current = UnsafeRawPointer(best + ch).loadUnaligned(as: SIMD8<Float>.self)
                                    var index = UnsafeRawPointer(out + ch).loadUnaligned(as: SIMD8<Int32>.self)
                                    let wins = (v .> current) .| ((v .!= v) .& (current .== current))
                                    current.replace(with: v, where: wins)
                                    index.replace(with: Self.lanes &+ (start32 &+ Int32(truncatingIfNeeded: ch)), where: wins)
                                    UnsafeMutableRawPointer(best + ch).storeBytes(of: current, as: SIMD8<Float>.self)
                                    UnsafeMutableRawPointer(out + ch).storeBytes(of: index, as: SIMD8<Int32>.self)
                                    ch += 8
                                }
                                while ch < c {
                                    let v = row[ch], current = best[ch]
                                    if v > current || (v.isNaN && !current.isNaN) { best[ch] = v; out[ch] = start32 &+ Int32(truncatingIfNeeded: ch) }
                                    ch += 1
                                }
                            }
                        }
                        if first { for ch in 0..<c { out[ch] = 0 } }  // an empty window (cannot happen with valid geometry)
                        o += c
                    }
                }
            }
        }
    }

    /// Average pooling; with `same` padding the divisor counts only positions inside the image
    /// (as `jax.example_libraries.stax.AvgPool` does by normalising with a pooled ones image).
    /// `adjoint` computes the transpose map: output cotangents → input cotangents.
    public static func average(_ x: UnsafePointer<Float>, _ g: WindowGeometry,
                               into out: UnsafeMutablePointer<Float>) {
        walkWindows(g) { o, idx, weight in out[o] += weight * x[idx] } prepare: {
            out.update(repeating: 0, count: g.batch * g.outHeight * g.outWidth * g.channels)
        }
    }

    public static func averageAdjoint(_ y: UnsafePointer<Float>, _ g: WindowGeometry,
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
                            for ix in x0..<max(x0, x1) { body(o, base + (iy * g.width + ix) * c + ch, weight) }
                        }
                        o += 1
                    }
                }
            }
        }
    }
}
