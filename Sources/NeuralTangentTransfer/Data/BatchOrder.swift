import Foundation
import NTTLayers

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
        precondition(batchSize > 0 && count >= batchSize,
                     "BatchOrder: \(count) examples cannot fill a batch of \(batchSize)")
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
