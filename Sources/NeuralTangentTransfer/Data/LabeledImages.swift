import Foundation
import NTTLayers

/// Labelled images: [N, H, W, C] Float32 (standardised) and N integer labels.
public struct LabeledImages: Sendable {
    public var images: Tensor
    public var labels: [Int]

    public init(images: Tensor, labels: [Int]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "LabeledImages: images \(images.shape) and \(labels.count) labels do not match")
        self.images = images; self.labels = labels
    }

    public var count: Int { labels.count }
    /// Per-sample shape [H, W, C].
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }

    /// The examples at `indices`, in that order.
    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) {
        let size = imageShape.reduce(1, *)
        var out = [Float](repeating: 0, count: indices.count * size)
        images.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (row, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "LabeledImages.batch: index \(i) out of range 0..<\(count)")
                    (dst.baseAddress! + row * size).update(from: src.baseAddress! + i * size, count: size)
                }
            }
        }
        return (Tensor(shape: [indices.count] + imageShape, scalars: out), indices.map { labels[$0] })
    }

    /// A seeded random split: `validation` gets round(fraction·N) examples (at least 1 when the
    /// fraction is positive), `train` the rest, each in the original order.
    public func split(validationFraction: Double, seed: UInt64) -> (train: LabeledImages, validation: LabeledImages) {
        var rng = SeededRandom(seed: seed, stream: "split")
        let permutation = rng.permutation(count)
        let size = validationFraction > 0 ? max(1, Int((validationFraction * Double(count)).rounded())) : 0
        let validation = Array(permutation.prefix(size)).sorted()
        let held = Set(validation)
        let train = (0..<count).filter { !held.contains($0) }
        let t = batch(train), v = batch(validation)
        return (LabeledImages(images: t.images, labels: t.labels), LabeledImages(images: v.images, labels: v.labels))
    }
}
