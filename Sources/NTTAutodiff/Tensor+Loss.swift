extension Tensor {
    /// log softmax over the last axis: x − m − log Σ exp(x − m), with m = max (held constant;
    /// the result does not depend on it, so derivatives are exact).
    public func logSoftmax() -> Tensor {
        precondition(rank >= 1 && shape[rank - 1] > 0, "logSoftmax: needs a non-empty last axis, got shape \(shape)")
        let k = shape[rank - 1], rows = count / k
        var maxima = [Float](repeating: 0, count: rows)
        for r in 0..<rows { maxima[r] = scalars[(r * k)..<((r + 1) * k)].max()! }
        let m = Tensor(shape: Array(shape.dropLast()) + [1], scalars: maxima)
        let shifted = self - m
        return shifted - shifted.exp().sum(alongAxes: [rank - 1], keepingDimensions: true).log()
    }

    /// Mean over the batch of −Σ labels · log softmax(logits); `labels` are one-hot (or any
    /// distribution) with the logits' shape [N, k].
    public static func softmaxCrossEntropy(logits: Tensor, labels: Tensor) -> Tensor {
        precondition(logits.rank == 2 && logits.shape == labels.shape,
                     "softmaxCrossEntropy: logits \(logits.shape) and labels \(labels.shape) must both be [N, k]")
        precondition(logits.shape[0] > 0, "softmaxCrossEntropy: empty batch")
        return -(labels * logits.logSoftmax()).sum() / Float(logits.shape[0])
    }

    /// One-hot rows: result[i, labels[i]] = 1; shape [labels.count, classes].
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var out = [Float](repeating: 0, count: labels.count * classes)
        for (i, l) in labels.enumerated() {
            precondition(l >= 0 && l < classes, "oneHot: label \(l) is outside 0..<\(classes)")
            out[i * classes + l] = 1
        }
        return Tensor(shape: [labels.count, classes], scalars: out)
    }
}
