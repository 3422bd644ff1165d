/// The geometry of a 2-D window sliding over an NHWC image: window size, stride and padding,
/// resolved into output sizes and the top/left padding.
///
/// Padding follows XLA/TensorFlow: without it (`valid`) output = floor((input − window) / stride)
/// + 1; with it (`same`) the image is zero-padded so that output = ceil(input / stride), the
/// extra row/column going to the end. (The public name of the choice is NTTAutodiff's `Padding`.)
package struct WindowGeometry: Sendable, Hashable {
    package let batch: Int, height: Int, width: Int, channels: Int
    package let windowHeight: Int, windowWidth: Int
    package let strideHeight: Int, strideWidth: Int
    package let outHeight: Int, outWidth: Int
    package let padTop: Int, padLeft: Int
    /// Whether the window is `same`-padded (else `valid`).
    package let samePadding: Bool

    package init(batch: Int, height: Int, width: Int, channels: Int,
                 windowHeight: Int, windowWidth: Int, strideHeight: Int, strideWidth: Int,
                 samePadding: Bool) {
        self.batch = batch; self.height = height; self.width = width; self.channels = channels
        self.windowHeight = windowHeight; self.windowWidth = windowWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.samePadding = samePadding
        if !samePadding {
            outHeight = height >= windowHeight ? (height - windowHeight) / strideHeight + 1 : 0
            outWidth = width >= windowWidth ? (width - windowWidth) / strideWidth + 1 : 0
            padTop = 0; padLeft = 0
        } else {
            outHeight = (height + strideHeight - 1) / strideHeight
            outWidth = (width + strideWidth - 1) / strideWidth
            let padH = max((outHeight - 1) * strideHeight + windowHeight - height, 0)
            let padW = max((outWidth - 1) * strideWidth + windowWidth - width, 0)
            padTop = padH / 2; padLeft = padW / 2
        }
    }

    /// The same window over a batch of another size.
    package func withBatch(_ batch: Int) -> WindowGeometry {
        WindowGeometry(batch: batch, height: height, width: width, channels: channels,
                       windowHeight: windowHeight, windowWidth: windowWidth,
                       strideHeight: strideHeight, strideWidth: strideWidth, samePadding: samePadding)
    }

    /// Rows of the patch matrix: one per output pixel of every image.
    package var patchCount: Int { batch * outHeight * outWidth }
    /// Columns of the patch matrix: kh·kw·cin, ordered (kh, kw, cin) to match HWIO weights.
    package var patchSize: Int { windowHeight * windowWidth * channels }
    package var inputCount: Int { batch * height * width * channels }
}
