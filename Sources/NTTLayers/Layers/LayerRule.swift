/// Everything the rest of the package needs to know about one layer family, in one place (as
/// stax pairs an `init_fn` with an `apply_fn`): its output shape, its parameters and their
/// initialisation, its forward pass, and the traced forward pass whose record pushes the NTK's
/// output cotangents back (`LayerTrace`). `Layer.rule` maps each spec case to its rule.
///
/// Adding a layer family is adding one file with a conforming type (and its tests), plus its
/// case in `Layer` and in the spec grammar.
package protocol LayerRule: Sendable {
    /// The per-sample output shape for a per-sample input `shape`, or the reason the layer
    /// does not fit that input.
    func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int]

    /// Whether the layer owns a weight and a bias.
    var hasParameters: Bool { get }

    /// Weight and bias shapes for a per-sample input `shape`; nil for a layer without parameters.
    func parameterShapes(forInput shape: [Int]) -> (weight: [Int], bias: [Int])?

    /// Fresh parameters for the `index`-th parametrised layer of a model (the index names the
    /// random streams); nil for a layer without parameters.
    func initialize(forInput shape: [Int], seed: UInt64, index: Int) -> LayerParameters?

    /// Whether the rule takes a raw weight with a sparse mask (`LayerParameters.sparseMask`) in its
    /// passes instead of the effective weight w ⊙ m.
    var multipliesSparseWeights: Bool { get }

    /// Whether a `relu` written just before this layer may run just after it instead with the
    /// same bits in value and derivative. Untraced passes use it to apply relu to the smaller
    /// tensor (`Model.apply`).
    var commutesWithReLU: Bool { get }

    /// The layer's output for a batch x [N, …input]. `parameters` holds the effective weight
    /// w ⊙ m and the bias of a parametrised layer (nil otherwise); `position` is the layer's
    /// index in the spec and `dropoutSeed` is set in training mode (see `DropoutLayer`).
    func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor

    /// The evaluation-mode output, with the record the NTK needs to push cotangents back.
    func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace)
}

extension LayerRule {
    package var hasParameters: Bool { false }

    package var commutesWithReLU: Bool { false }

    package var multipliesSparseWeights: Bool { false }

    /// JAX stax's initialisation (`GlorotNormal`) of the layer's parameter shapes.
    package func initialize(forInput shape: [Int], seed: UInt64, index: Int) -> LayerParameters? {
        parameterShapes(forInput: shape).map { GlorotNormal.parameters($0, seed: seed, index: index) }
    }
}
