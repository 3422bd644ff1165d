import NTTAutodiff

/// The NTK's cotangents at the output of a max-pool that directly follows a parametrised layer,
/// with the pool's argmax positions: the layer's own cotangents Δ are their scatter through the
/// argmax (`MaxPoolLayer.Trace.pushCotangents`), zero except at one pixel per window and
/// channel, which a conv layer's kernel term uses to sum over the pooled pixels only.
package struct PoolCotangents {
    /// D [n·k, H', W', c], rows (sample, output).
    package var values: Tensor
    /// Flat argmax indices [n·H'·W'·c] into the pool's [n, H, W, c] input.
    package var argmax: [Int32]
    /// The pool's input shape [n, H, W, c].
    package var inputShape: [Int]

    package init(values: Tensor, argmax: [Int32], inputShape: [Int]) {
        self.values = values; self.argmax = argmax; self.inputShape = inputShape
    }

    /// Pooled pixels per sample (H'·W').
    package var pooledPixels: Int { argmax.count / max(1, inputShape[0] * inputShape[3]) }
}
