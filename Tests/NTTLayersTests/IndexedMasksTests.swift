import Testing
import NTTKernels
@testable import NTTLayers

/// Which masks get kept-entry lists: a constant 0/1 mask of a dense layer keeping at most
/// `SparseProduct.densityThreshold` of its weights, and no other; and what a traced pass makes of them.
struct IndexedMasksTests {
    /// A 0/1 mask of `shape` keeping exactly the first `kept` entries of a fixed shuffle.
    static func mask(_ shape: [Int], kept: Int, seed: UInt64 = 1) -> Tensor {
        let count = shape.reduce(1, *)
        var rng = SeededRandom(seed: seed, stream: "test.indexed-masks")
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
        var scalars = [Float](repeating: 0, count: count)
        for i in order.prefix(kept) { scalars[i] = 1 }
        return Tensor(shape: shape, scalars: scalars)
    }

    @Test func listsSparseConstantMasksOfDenseLayers() throws {
        let model = try Model(spec: ModelSpec(parsing: "dense(100),relu,dense(50),relu,dense(10)"),
                              inputShape: [200])
        let shapes = model.parameterShapes.map(\.weight)
        // d = 0.03: 600 of 20000, 150 of 5000 kept; the last layer's 10% is denser than the threshold.
        let masks = [Self.mask(shapes[0], kept: 600), Self.mask(shapes[1], kept: 150, seed: 2),
                     Self.mask(shapes[2], kept: 50, seed: 3)]
        let indexed = IndexedMasks(model: model, masks: masks)
        #expect(indexed.tensors.map(\.scalars) == masks.map(\.scalars))
        #expect(indexed.patterns.map { $0?.count } == [600, 150, nil])
        #expect(indexed.patterns[0]!.rows == 200 && indexed.patterns[0]!.columns == 100)
        // The lists are those of the mask itself.
        let expected = masks[1].scalars.withUnsafeBufferPointer {
            SparsePattern(mask: $0.baseAddress!, rows: 100, columns: 50)!
        }
        #expect(indexed.patterns[1] == expected)
    }

    @Test func denseEnoughMasksGetNoLists() throws {
        let model = try Model(spec: ModelSpec(parsing: "dense(20),relu,dense(5)"), inputShape: [50])
        let shapes = model.parameterShapes.map(\.weight)
        let threshold = Int(SparseProduct.densityThreshold * 1000)  // of the first layer's 1000 weights
        let atThreshold = IndexedMasks(model: model, masks: [Self.mask(shapes[0], kept: threshold),
                                                             Self.mask(shapes[1], kept: 0)])
        #expect(atThreshold.patterns.map { $0?.count } == [threshold, 0])
        let above = IndexedMasks(model: model, masks: [Self.mask(shapes[0], kept: threshold + 1),
                                                       Tensor.ones(shapes[1])])
        #expect(above.patterns.allSatisfy { $0 == nil })
    }

    @Test func masksThatAreNotZeroOneGetNoLists() throws {
        let model = try Model(spec: ModelSpec(parsing: "dense(20)"), inputShape: [50])
        var scalars = Self.mask([50, 20], kept: 10).scalars
        scalars[scalars.firstIndex(of: 1)!] = 0.5
        #expect(IndexedMasks(model: model, masks: [Tensor(shape: [50, 20], scalars: scalars)]).patterns == [nil])
    }

    /// A mask being differentiated (NTK-SAP's) must stay in the product w ⊙ m to get its derivative.
    @Test func trackedMasksGetNoLists() throws {
        let model = try Model(spec: ModelSpec(parsing: "dense(20)"), inputShape: [50])
        let mask = Self.mask([50, 20], kept: 10)
        #expect(IndexedMasks(model: model, masks: [mask]).patterns[0] != nil)
        var listed: [SparsePattern?] = []
        _ = gradient(at: mask) { m in
            listed = IndexedMasks(model: model, masks: [m]).patterns
            return m.sum()
        }
        #expect(listed == [nil])
    }

    /// A conv layer's rank-4 mask [kh, kw, cin, cout] is listed as the [kh·kw·cin, cout] matrix its
    /// products use (the same entries in the same order), under the same density threshold.
    @Test func convMasksAreListedAsFilterMatrices() throws {
        let model = try Model(spec: ModelSpec(parsing: "conv(8,3),relu,flatten,dense(4)"), inputShape: [10, 10, 2])
        let shapes = model.parameterShapes.map(\.weight)
        #expect(shapes[0] == [3, 3, 2, 8])
        let masks = [Self.mask(shapes[0], kept: 4), Self.mask(shapes[1], kept: 40)]
        let patterns = IndexedMasks(model: model, masks: masks).patterns
        #expect(patterns.map { $0?.count } == [4, 40])
        let flat = masks[0].reshaped([18, 8])
        let expected = flat.scalars.withUnsafeBufferPointer { SparsePattern(mask: $0.baseAddress!, rows: 18, columns: 8) }
        #expect(patterns[0] == expected)
        let dense = [Self.mask(shapes[0], kept: 40), masks[1]]
        #expect(IndexedMasks(model: model, masks: dense).patterns.map { $0?.count } == [nil, 40])
    }

    /// A listed layer gets its raw weight and the lists, the others w ⊙ m.
    @Test func tracedParametersUseTheLists() throws {
        let model = try Model(spec: ModelSpec(parsing: "dense(100),relu,dense(10)"), inputShape: [200])
        let params = model.initialize(seed: 4)
        let shapes = model.parameterShapes.map(\.weight)
        let masks = [Self.mask(shapes[0], kept: 600), Self.mask(shapes[1], kept: 500)]
        let indexed = IndexedMasks(model: model, masks: masks)
        let traced = model.tracedParameters(params, masks: indexed)
        #expect(traced[0].sparseMask == indexed.patterns[0] && traced[0].sparseMask != nil)
        #expect(traced[0].weight.scalars == params[0].weight.scalars)
        #expect(traced[1].sparseMask == nil)
        #expect(traced[1].weight.scalars == (params[1].weight * masks[1]).scalars)
        #expect(traced.map(\.bias.scalars) == params.map(\.bias.scalars))
        #expect(model.tracedParameters(params, masks: nil).map(\.weight.scalars) == params.map(\.weight.scalars))
    }
}
