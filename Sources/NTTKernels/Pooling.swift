/// Pooling windows over NHWC images.
public enum Pooling {
    /// For each output element of a max-pool, the flat input index of its maximum. Ties go to
    /// the *first* maximal element in row-major window order, as XLA's select-and-scatter does;
    /// padded positions (for `same`) never win.
    public static func maxIndices(_ x: UnsafePointer<Float>, _ g: WindowGeometry,
                                  into indices: UnsafeMutablePointer<Int32>) {
        let c = g.channels
        var o = 0
        for b in 0..<g.batch {
            let base = b * g.height * g.width * c
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for ch in 0..<c {
                        var best = -Float.infinity, bestIndex = -1
                        for dy in 0..<g.windowHeight {
                            let iy = oy * g.strideHeight + dy - g.padTop
                            if iy < 0 || iy >= g.height { continue }
                            for dx in 0..<g.windowWidth {
                                let ix = ox * g.strideWidth + dx - g.padLeft
                                if ix < 0 || ix >= g.width { continue }
                                let idx = base + (iy * g.width + ix) * c + ch
                                let v = x[idx]
                                if bestIndex < 0 || v > best || (v.isNaN && !best.isNaN) { best = v; bestIndex = idx }
                            }
                        }
                        indices[o] = Int32(max(bestIndex, 0))
                        o += 1
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
