import NTTKernels

/// Padding of a 2-D convolution or pooling window, as in XLA/TensorFlow.
public enum Padding: String, Sendable, Codable, CaseIterable {
    /// No padding: output = floor((input − window) / stride) + 1.
    case valid
    /// Zero padding so that output = ceil(input / stride); the extra row/column goes to the end.
    case same
}

extension WindowGeometry {
    /// The geometry of a window with the given padding (resolved by the kernels' geometry).
    package init(batch: Int, height: Int, width: Int, channels: Int,
                 windowHeight: Int, windowWidth: Int, strideHeight: Int, strideWidth: Int,
                 padding: Padding) {
        self.init(batch: batch, height: height, width: width, channels: channels,
                  windowHeight: windowHeight, windowWidth: windowWidth,
                  strideHeight: strideHeight, strideWidth: strideWidth, samePadding: padding == .same)
    }

    /// The padding this geometry was made with.
    package var padding: Padding { samePadding ? .same : .valid }
}
