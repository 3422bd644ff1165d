import Testing
import NTTKernels
@testable import NTTAutodiff

struct ConvolutionTests {
    /// Direct loops over NHWC input and HWIO filter, zero padding as XLA ('same': extra at the end).
    static func reference(_ x: Tensor, _ w: Tensor, stride: (Int, Int), padding: Padding) -> Tensor {
        let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw, co) = (w.shape[0], w.shape[1], w.shape[3])
        let g = WindowGeometry(batch: n, height: h, width: wd, channels: c, windowHeight: kh, windowWidth: kw,
                               strideHeight: stride.0, strideWidth: stride.1, padding: padding)
        var out = [Float](repeating: 0, count: n * g.outHeight * g.outWidth * co)
        for b in 0..<n { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for o in 0..<co {
            var acc: Float = 0
            for dy in 0..<kh { for dx in 0..<kw { for ci in 0..<c {
                let iy = oy * stride.0 + dy - g.padTop, ix = ox * stride.1 + dx - g.padLeft
                if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                    acc += x.scalars[((b * h + iy) * wd + ix) * c + ci] * w.scalars[((dy * kw + dx) * c + ci) * co + o]
                }
            } } }
            out[((b * g.outHeight + oy) * g.outWidth + ox) * co + o] = acc
        } } } }
        return Tensor(shape: [n, g.outHeight, g.outWidth, co], scalars: out)
    }

    static let cases: [((Int, Int), Padding, [Int])] = [((1, 1), .valid, [2, 5, 6, 2]), ((1, 1), .same, [1, 5, 4, 3]),
                                                         ((2, 2), .same, [2, 5, 6, 2]), ((2, 1), .valid, [1, 7, 5, 1])]

    @Test(arguments: 0..<4)
    func conv2d(caseIndex: Int) {
        let (stride, padding, shape) = Self.cases[caseIndex]
        let x = GradientCheck.random(shape, seed: 1), w = GradientCheck.random([3, 2, shape[3], 2], seed: 2, scale: 0.5)
        let y = Tensor.conv2d(x, w, strides: stride, padding: padding)
        let r = Self.reference(x, w, stride: stride, padding: padding)
        GradientCheck.assertClose(y, r.scalars, shape: r.shape, "conv2d")
        let weights = GradientCheck.random(r.shape, seed: 3)
        GradientCheck.check([x, w], "conv2d \(stride) \(padding)") { v in
            (Tensor.conv2d(v[0], v[1], strides: stride, padding: padding) * weights).sum()
        }
        GradientCheck.check([x], "conv2d² \(stride) \(padding)") { v in
            (Tensor.conv2d(v[0], w, strides: stride, padding: padding).squared() * weights).sum()
        }
    }

    /// Geometries for the chunked `convolution` op: one chunk; one image per chunk, 20 chunks in
    /// 7 groups; LeNet-5's first layer with a ragged last chunk and group (66 images, 4 per chunk).
    static let chunkCases = [
        WindowGeometry(batch: 3, height: 6, width: 5, channels: 2, windowHeight: 3, windowWidth: 2,
                       strideHeight: 2, strideWidth: 1, padding: .same),
        WindowGeometry(batch: 20, height: 30, width: 30, channels: 4, windowHeight: 5, windowWidth: 5,
                       strideHeight: 1, strideWidth: 1, padding: .valid),
        WindowGeometry(batch: 66, height: 28, width: 28, channels: 1, windowHeight: 5, windowWidth: 5,
                       strideHeight: 1, strideWidth: 1, padding: .valid),
    ]

    /// The chunked op against `affine(patches(x), w, b)`: the value, and the first-order
    /// gradients (computed by the chunked kernels) against those of the plain formulation.
    @Test(arguments: 0..<3)
    func chunkedConvolutionMatchesPatchesAndAffine(caseIndex: Int) {
        let g = Self.chunkCases[caseIndex], cout = 7
        let x = GradientCheck.random([g.batch, g.height, g.width, g.channels], seed: 10)
        let w = GradientCheck.random([g.patchSize, cout], seed: 11, scale: 0.3)
        let b = GradientCheck.random([cout], seed: 12)
        let plain: ([Tensor]) -> Tensor = { v in
            Tensor.affine(v[0].patches(g), v[1], v[2]).reshaped([g.batch, g.outHeight, g.outWidth, cout])
        }
        let y = Tensor.convolution(x, w, b, g), reference = plain([x, w, b])
        GradientCheck.assertClose(y, reference.scalars, shape: reference.shape, "convolution value")
        let weights = GradientCheck.random(reference.shape, seed: 13)
        let fused = gradient(at: [x, w, b]) { v in (Tensor.convolution(v[0], v[1], v[2], g) * weights).sum() }
        let expected = gradient(at: [x, w, b]) { v in (plain(v) * weights).sum() }
        for (name, (got, want)) in zip(["x", "w", "b"], zip(fused, expected)) {
            GradientCheck.assertClose(got, want.scalars, shape: want.shape, tolerance: 1e-4,
                                      "convolution gradient \(name)")
        }
    }

    /// Finite differences: first order through the chunked kernels, second order through the
    /// differentiable pullback (patches, matmul, col2im) that a recorded backward pass uses.
    @Test func chunkedConvolutionDifferentiates() {
        let g = Self.chunkCases[0], cout = 3
        let x = GradientCheck.random([g.batch, g.height, g.width, g.channels], seed: 14)
        let w = GradientCheck.random([g.patchSize, cout], seed: 15, scale: 0.5)
        let b = GradientCheck.random([cout], seed: 16)
        let weights = GradientCheck.random([g.batch, g.outHeight, g.outWidth, cout], seed: 17)
        GradientCheck.check([x, w, b], "convolution") { v in (Tensor.convolution(v[0], v[1], v[2], g) * weights).sum() }
        GradientCheck.check([x, w], "convolution²") { v in
            (Tensor.convolution(v[0], v[1], b, g).squared() * weights).sum()
        }
    }

    /// The chunked transposed convolution against `matmul(dy, w, transposeB: true).patchesAdjoint(g)`:
    /// the value and the first-order gradients (computed by the chunked kernels).
    @Test(arguments: 0..<3)
    func convolutionTransposeMatchesMatmulAndCol2im(caseIndex: Int) {
        let g = Self.chunkCases[caseIndex], cout = 7
        let dy = GradientCheck.random([g.patchCount, cout], seed: 20)
        let w = GradientCheck.random([g.patchSize, cout], seed: 21, scale: 0.3)
        let plain: ([Tensor]) -> Tensor = { v in Tensor.matmul(v[0], v[1], transposeB: true).patchesAdjoint(g) }
        let y = Tensor.convolutionTranspose(dy, w, g), reference = plain([dy, w])
        GradientCheck.assertClose(y, reference.scalars, shape: reference.shape, "convolutionTranspose value")
        let weights = GradientCheck.random(reference.shape, seed: 22)
        let fused = gradient(at: [dy, w]) { v in (Tensor.convolutionTranspose(v[0], v[1], g) * weights).sum() }
        let expected = gradient(at: [dy, w]) { v in (plain(v) * weights).sum() }
        for (name, (got, want)) in zip(["dy", "w"], zip(fused, expected)) {
            GradientCheck.assertClose(got, want.scalars, shape: want.shape, tolerance: 1e-4,
                                      "convolutionTranspose gradient \(name)")
        }
    }

    /// Finite differences: first order through the chunked kernels, second order through the
    /// recorded pullback (patches and matmul).
    @Test func convolutionTransposeDifferentiates() {
        let g = Self.chunkCases[0], cout = 3
        let dy = GradientCheck.random([g.patchCount, cout], seed: 23)
        let w = GradientCheck.random([g.patchSize, cout], seed: 24, scale: 0.5)
        let weights = GradientCheck.random([g.batch, g.height, g.width, g.channels], seed: 25)
        GradientCheck.check([dy, w], "convolutionTranspose") { v in
            (Tensor.convolutionTranspose(v[0], v[1], g) * weights).sum()
        }
        GradientCheck.check([dy, w], "convolutionTranspose²") { v in
            (Tensor.convolutionTranspose(v[0], v[1], g).squared() * weights).sum()
        }
    }

    @Test func patchesAreAdjointToTheirAdjoint() {
        let g = WindowGeometry(batch: 2, height: 5, width: 4, channels: 3, windowHeight: 3, windowWidth: 2,
                               strideHeight: 2, strideWidth: 1, padding: .same)
        let x = GradientCheck.random([2, 5, 4, 3], seed: 4),
            p = GradientCheck.random([g.patchCount, g.patchSize], seed: 5)
        let lhs = (x.patches(g) * p).sum().scalar, rhs = (x * p.patchesAdjoint(g)).sum().scalar
        #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)))
        let w = GradientCheck.random([2, 5, 4, 3], seed: 6)
        GradientCheck.check([p], "patchesAdjoint") { v in (v[0].patchesAdjoint(g).squared() * w).sum() }
    }
}
