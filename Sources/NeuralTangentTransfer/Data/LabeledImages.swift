import Foundation
import NTTKernels
import NTTLayers

/// Images [N, H, W, C] Float32 (standardised) and N integer labels, or no labels at all (a
/// dataset union's training images, see `Dataset.unionParts`).
public struct LabeledImages: Sendable {
    public var images: Tensor
    /// One label per image; empty when `hasLabels` is false.
    public private(set) var labels: [Int]
    /// False for images whose labels are not kept: a union's parts label different tasks.
    public let hasLabels: Bool

    public init(images: Tensor, labels: [Int]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "LabeledImages: images \(images.shape) and \(labels.count) labels do not match")
        self.images = images; self.labels = labels; hasLabels = true
    }

    /// Images without labels.
    public init(unlabelled images: Tensor) {
        precondition(images.rank == 4, "LabeledImages: images must be [N, H, W, C], got \(images.shape)")
        self.images = images; labels = []; hasLabels = false
    }

    /// The same labels (or none) with other images, e.g. standardised ones.
    func replacingImages(_ newImages: Tensor) -> LabeledImages {
        hasLabels ? LabeledImages(images: newImages, labels: labels) : LabeledImages(unlabelled: newImages)
    }

    public var count: Int { images.shape[0] }
    /// Per-sample shape [H, W, C].
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }

    /// The examples at `indices`, in that order (no labels when `hasLabels` is false).
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
        return (Tensor(shape: [indices.count] + imageShape, scalars: out), hasLabels ? indices.map { labels[$0] } : [])
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
        func part(_ indices: [Int]) -> LabeledImages {
            let b = batch(indices)
            return hasLabels ? LabeledImages(images: b.images, labels: b.labels) : LabeledImages(unlabelled: b.images)
        }
        return (part(train), part(validation))
    }
}
