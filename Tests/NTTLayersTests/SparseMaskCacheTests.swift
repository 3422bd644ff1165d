import Testing
import NTTKernels
@testable import NTTLayers

/// The cache lists a mask once, tells masks of one shape apart by their storage, and gives no
/// lists for masks denser than the threshold.
struct SparseMaskCacheTests {
    @Test func listsEachMaskOnceAndTellsMasksApart() {
        let cache = SparseMaskCache()
        let a = Tensor(shape: [10, 10], scalars: (0..<100).map { $0 % 25 == 0 ? 1 : 0 })
        let b = Tensor(shape: [10, 10], scalars: (0..<100).map { $0 % 25 == 1 ? 1 : 0 })
        let first = cache.pattern(for: a)
        #expect(first != nil && first!.count == 4)
        #expect(cache.pattern(for: a) == first)
        #expect(cache.pattern(for: b) != first && cache.pattern(for: b)!.count == 4)
        #expect(cache.pattern(for: Tensor.ones([10, 10])) == nil)
        // Many other masks later, the first is listed again from its values.
        for i in 0..<20 { _ = cache.pattern(for: Tensor(shape: [10, 10], scalars: (0..<100).map { $0 == i ? 1 : 0 })) }
        #expect(cache.pattern(for: a) == first)
    }
}
