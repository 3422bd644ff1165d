import Foundation
import NTTKernels
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

    /// The saved state (the permutation is derived); key names follow the file's convention.
    enum CodingKeys: CodingKey { case count, batchSize, seed, epoch, position }

    /// Reads a saved order and checks it (a hand-edited checkpoint must not trap later).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        count = try c.decode(Int.self, forKey: .count)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        seed = try c.decode(UInt64.self, forKey: .seed)
        epoch = try c.decode(Int.self, forKey: .epoch)
        position = try c.decode(Int.self, forKey: .position)
        guard batchSize > 0 && count >= batchSize && epoch >= 0 && position >= 0 && position <= count / batchSize else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "batch order fields out of range"))
        }
    }

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
