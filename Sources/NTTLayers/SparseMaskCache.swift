import NTTKernels
import Synchronization

/// The kept-entry lists (`SparsePattern`) of the masks that traced passes used last, so that a
/// transfer loop lists each mask once per mask update instead of once per step (scanning the
/// masks of LeNet-300-100 took ~3% of a step).
///
/// A memo, not a setting: it never changes a result. An entry is found by the identity of its
/// mask's storage, which the entry holds: while it is held, no other storage can have that
/// address, and tensors never change their elements, so the same storage means the same mask.
final class SparseMaskCache: Sendable {
    static let shared = SparseMaskCache()

    /// The most recently used entries, newest last (a model's masks, and a few more).
    private static let capacity = 8

    private struct Entry {
        var storage: [Float]
        var shape: [Int]
        var pattern: SparsePattern?
    }

    private let entries = Mutex<[Entry]>([])

    /// The kept entries of a constant 0/1 mask [rows, columns], or nil when it is denser than
    /// `SparseProduct.densityThreshold` (or not 0/1).
    func pattern(for mask: Tensor) -> SparsePattern? {
        precondition(mask.rank == 2, "SparseMaskCache: needs a [rows, columns] mask, got \(mask.shape)")
        guard mask.count > 0 else { return nil }
        let address = mask.scalars.withUnsafeBufferPointer { $0.baseAddress }
        let found = entries.withLock { entries -> SparsePattern?? in
            guard let i = entries.firstIndex(where: { e in
                e.shape == mask.shape && e.storage.withUnsafeBufferPointer { $0.baseAddress } == address
            }) else { return nil }
            let entry = entries.remove(at: i)
            entries.append(entry)
            return .some(entry.pattern)
        }
        if let found { return found }
        let pattern = mask.scalars.withUnsafeBufferPointer { buffer in
            SparsePattern(mask: buffer.baseAddress!, rows: mask.shape[0], columns: mask.shape[1],
                          maximumDensity: SparseProduct.densityThreshold)
        }
        entries.withLock { entries in
            entries.append(Entry(storage: mask.scalars, shape: mask.shape, pattern: pattern))
            if entries.count > Self.capacity { entries.removeFirst() }
        }
        return pattern
    }
}
