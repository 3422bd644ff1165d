/// im2col and its adjoint col2im: the patch matrix that turns a convolution into one GEMM.
///
/// patches[(b, oy, ox), (dy, dx, c)] = x[b, oy·sh + dy − padTop, ox·sw + dx − padLeft, c]
/// (zero outside the image). col2im scatters-adds a patch matrix back onto the image, so the two
/// are exact adjoints: ⟨im2col(x), P⟩ = ⟨x, col2im(P)⟩.
package enum Im2col {
    package static func patches(_ x: UnsafePointer<Float>, _ g: WindowGeometry,
                               into p: UnsafeMutablePointer<Float>) {
        let rowsPerImage = g.outHeight * g.outWidth
        // Images are independent: they are shared out between threads.
        Parallel.forEachRange(of: g.batch, work: rowsPerImage * g.patchSize) { images in
            patches(x, g, images: images, into: p + images.lowerBound * rowsPerImage * g.patchSize)
        }
    }

    /// The patch rows of `images` only, written from `p` on (p is the first row of the first of
    /// those images), on the calling thread.
    package static func patches(_ x: UnsafePointer<Float>, _ g: WindowGeometry, images: Range<Int>,
                               into p: UnsafeMutablePointer<Float>) {
        // Index arithmetic is unchecked (&+, &*): every index is that of a pixel or patch entry.
        let c = g.channels, rowLength = g.windowWidth &* c
        var dst = p
        for b in images {
            let image = x + b &* g.height &* g.width &* c
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for dy in 0..<g.windowHeight {
                        let iy = oy &* g.strideHeight &+ dy &- g.padTop
                        if iy < 0 || iy >= g.height {
                            dst.update(repeating: 0, count: rowLength)
                            dst += rowLength
                            continue
                        }
                        let ix0 = ox &* g.strideWidth &- g.padLeft
                        if ix0 >= 0 && ix0 &+ g.windowWidth <= g.width {
                            // The whole window row is inside: one contiguous copy.
                            Strided.copy(image + (iy &* g.width &+ ix0) &* c, to: dst, count: rowLength)
                            dst += rowLength
                        } else {
                            for dx in 0..<g.windowWidth {
                                let ix = ix0 &+ dx
                                if ix < 0 || ix >= g.width { dst.update(repeating: 0, count: c) }
                                else { Strided.copy(image + (iy &* g.width &+ ix) &* c, to: dst, count: c) }
                                dst += c
                            }
                        }
                    }
                }
            }
        }
    }


    /// x[...] = Σ over patches covering that pixel (x is overwritten, not accumulated into).
    package static func accumulate(_ p: UnsafePointer<Float>, _ g: WindowGeometry,
                                  into x: UnsafeMutablePointer<Float>) {
        let rowsPerImage = g.outHeight * g.outWidth
        // Each image gathers only from its own patch rows: images are shared out between threads,
        // and the order of additions within an image does not depend on the split.
        Parallel.forEachRange(of: g.batch, work: rowsPerImage * g.patchSize) { images in
            accumulate(p + images.lowerBound * rowsPerImage * g.patchSize, g, images: images, into: x)
        }
    }

    /// col2im for `images` only, on the calling thread: `p` is the first patch row of the first
    /// of those images; their pixels of x are overwritten, the rest of x is not touched.
    package static func accumulate(_ p: UnsafePointer<Float>, _ g: WindowGeometry, images: Range<Int>,
                                  into x: UnsafeMutablePointer<Float>) {
        let c = g.channels, imageSize = g.height * g.width * c
        (x + images.lowerBound * imageSize).update(repeating: 0, count: images.count * imageSize)
        var src = p
        for b in images {
            let image = x + b &* imageSize
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for dy in 0..<g.windowHeight {
                        let iy = oy &* g.strideHeight &+ dy &- g.padTop
                        if iy < 0 || iy >= g.height { src += g.windowWidth &* c; continue }
                        for dx in 0..<g.windowWidth {
                            let ix = ox &* g.strideWidth &+ dx &- g.padLeft
                            if ix >= 0 && ix < g.width {
                                let d = image + (iy &* g.width &+ ix) &* c
                                for ch in 0..<c { d[ch] += src[ch] }
                            }
                            src += c
                        }
                    }
                }
            }
        }
    }
}
