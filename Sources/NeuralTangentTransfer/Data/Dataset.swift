import Foundation
import NTTKernels
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

/// A dataset: training and test examples, standardised with the training set's statistics.
public struct Dataset: Sendable {
    public var name: String
    public var train: LabeledImages
    public var test: LabeledImages
    public var classes: Int
    /// [H, W, C].
    public var imageShape: [Int] { train.imageShape }

    public init(name: String, train: LabeledImages, test: LabeledImages, classes: Int) {
        self.name = name; self.train = train; self.test = test; self.classes = classes
    }
}

/// Seeded shuffled mini-batches, epoch after epoch: each epoch is a fresh permutation drawn
/// from (seed, epoch); the last incomplete batch of an epoch is dropped. The whole state is
/// three numbers, so a checkpoint restores the exact order.
public struct BatchOrder: Codable, Sendable, Equatable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64
    public private(set) var epoch = 0
    public private(set) var position = 0
    /// The current epoch's permutation (derived state, not saved).
    private var permutation: [Int]? = nil

    enum CodingKeys: String, CodingKey { case count, batchSize = "batch_size", seed, epoch, position }

    public static func == (a: BatchOrder, b: BatchOrder) -> Bool {
        (a.count, a.batchSize, a.seed, a.epoch, a.position) == (b.count, b.batchSize, b.seed, b.epoch, b.position)
    }

    public init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(batchSize > 0 && count >= batchSize, "BatchOrder: \(count) examples cannot fill a batch of \(batchSize)")
        self.count = count; self.batchSize = batchSize; self.seed = seed
    }

    public var batchesPerEpoch: Int { count / batchSize }

    /// The next batch's example indices.
    public mutating func next() -> [Int] {
        if position >= batchesPerEpoch { epoch += 1; position = 0; permutation = nil }
        if permutation == nil {
            var rng = SeededRandom(seed: seed, stream: "batches.epoch.\(epoch)")
            permutation = rng.permutation(count)
        }
        defer { position += 1 }
        return Array(permutation![(position * batchSize)..<((position + 1) * batchSize)])
    }
}
