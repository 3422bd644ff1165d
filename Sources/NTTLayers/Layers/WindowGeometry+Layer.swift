import NTTKernels

extension WindowGeometry {
    /// The window of a conv or pooling layer over a batch x [N, H, W, C].
    init(input shape: [Int], window k: Window, stride s: Window, padding: Padding) {
        self.init(batch: shape[0], height: shape[1], width: shape[2], channels: shape[3],
                  windowHeight: k.height, windowWidth: k.width, strideHeight: s.height, strideWidth: s.width,
                  padding: padding)
    }

    /// The window over one sample of per-sample shape [H, W, C], checked to fit.
    static func checked(perSample shape: [Int], window k: Window, stride s: Window,
                        padding: Padding) throws(ModelSpecError) -> WindowGeometry {
        guard shape.count == 3 else { throw ModelSpecError("needs an image input [H, W, C] but gets shape \(shape)") }
        let g = WindowGeometry(input: [1] + shape, window: k, stride: s, padding: padding)
        guard g.outHeight > 0 && g.outWidth > 0 else {
            throw ModelSpecError("a \(k) window does not fit a \(shape[0])x\(shape[1]) input")
        }
        return g
    }
}
