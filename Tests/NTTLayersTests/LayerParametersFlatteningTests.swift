import Testing
@testable import NTTLayers

struct LayerParametersFlatteningTests {
    @Test func flattenedIsWeightsThenBiasesAndRoundTrips() throws {
        let spec = try ModelSpec(parsing: "conv(2,3),flatten,dense(3),relu,dense(2)")
        let model = try Model(spec: spec, imageShape: [5, 5, 1])
        let p = model.initialize(seed: 1)
        let flat = p.flattened
        #expect(flat.map(\.shape) == p.map(\.weight.shape) + p.map(\.bias.shape))
        let back = [LayerParameters](unflattening: flat)
        #expect(back.map(\.weight.scalars) == p.map(\.weight.scalars))
        #expect(back.map(\.bias.scalars) == p.map(\.bias.scalars))
        let zipped = [LayerParameters](weights: p.map(\.weight), biases: p.map(\.bias))
        #expect(zipped.flattened.map(\.scalars) == flat.map(\.scalars))
    }
}
