import Testing
@testable import NTTAutodiff

@Test func smokeSecondOrder() {
    let x = Tensor(shape: [3], scalars: [0.5, -1, 2])
    // f = Σ x³ → ∇f = 3x², ⟨∇f, v⟩ with v = 1 → gradient 6x
    let g2 = gradient(at: x) { x in gradient(at: x) { ($0 * $0 * $0).sum() }.sum() }
    #expect(g2.scalars == [3, -6, 12])
    let j = jvp(at: [x], tangents: [Tensor.ones([3])]) { ($0[0] * $0[0]).sum() }
    #expect(j.tangent.scalar == 3)
}
