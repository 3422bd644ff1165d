/// Padding of a 2-D convolution or pooling window, as in XLA/TensorFlow.
public enum Padding: String, Sendable, Codable, CaseIterable {
    /// No padding: output = floor((input − window) / stride) + 1.
    case valid
    /// Zero padding so that output = ceil(input / stride); the extra row/column goes to the end.
    case same
}

/// The geometry of a 2-D window sliding over an NHWC image: window size, stride and padding,
/// resolved into output sizes and the top/left padding.
public struct WindowGeometry: Sendable, Hashable {
    public let batch: Int, height: Int, width: Int, channels: Int
    public let windowHeight: Int, windowWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let outHeight: Int, outWidth: Int
    public let padTop: Int, padLeft: Int
    public let padding: Padding

    public init(batch: Int, height: Int, width: Int, channels: Int,
                windowHeight: Int, windowWidth: Int, strideHeight: Int, strideWidth: Int,
                padding: Padding) {
        self.batch = batch; self.height = height; self.width = width; self.channels = channels
        self.windowHeight = windowHeight; self.windowWidth = windowWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padding = padding
        switch padding {
        case .valid:
            outHeight = height >= windowHeight ? (height - windowHeight) / strideHeight + 1 : 0
            outWidth = width >= windowWidth ? (width - windowWidth) / strideWidth + 1 : 0
            padTop = 0; padLeft = 0
        case .same:
            outHeight = (height + strideHeight - 1) / strideHeight
            outWidth = (width + strideWidth - 1) / strideWidth
            let padH = max((outHeight - 1) * strideHeight + windowHeight - height, 0)
            let padW = max((outWidth - 1) * strideWidth + windowWidth - width, 0)
            padTop = padH / 2; padLeft = padW / 2
        }
    }

    /// The same window over a batch of another size.
    public func withBatch(_ batch: Int) -> WindowGeometry {
        WindowGeometry(batch: batch, height: height, width: width, channels: channels,
                       windowHeight: windowHeight, windowWidth: windowWidth,
                       strideHeight: strideHeight, strideWidth: strideWidth, padding: padding)
    }

    /// Rows of the patch matrix: one per output pixel of every image.
    public var patchCount: Int { batch * outHeight * outWidth }
    /// Columns of the patch matrix: kh·kw·cin, ordered (kh, kw, cin) to match HWIO weights.
    public var patchSize: Int { windowHeight * windowWidth * channels }
    public var inputCount: Int { batch * height * width * channels }
}
