import NTTLayers

/// The pruning-at-initialisation methods `ntt` compares (SPEC §3), each applied to a fresh
/// initialisation drawn from the seed.
public enum PruningMethod: String, CaseIterable, Sendable, Codable {
    case random, scaledRandom = "scaled-random", magnitude, snip, logitSnip = "logit-snip"
    case grasp, synflow, ntkSap = "ntk-sap", dense

    /// The method named `text`; the one-line error names `flag` and the choices.
    public static func parse(_ text: String, flag: String) throws -> PruningMethod {
        guard let method = PruningMethod(rawValue: text) else {
            throw NTTError("\(flag): unknown method '\(text)'; expected one of \(names)")
        }
        return method
    }

    /// The names, for help texts and errors.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Whether the method needs labelled examples.
    public var needsLabels: Bool { self == .snip || self == .grasp }
    /// Whether the method needs (unlabelled) data at all.
    public var needsInputs: Bool { self == .snip || self == .grasp || self == .logitSnip }

    /// Fresh parameters (seed) pruned to `density`.
    ///
    /// - Parameters:
    ///   - batch: training examples for data-dependent methods (SPEC: 100 for SNIP-like scores);
    ///     labels are needed by `snip` and `grasp` only.
    ///   - ntkSapResamples: `ntk-sap`'s fresh draws of θ per round (`NtkSapPruner`).
    public func initialize(model: Model, density: Double, scope: PruningScope, seed: UInt64,
                           batch: (images: Tensor, labels: [Int])?,
                           ntkSapResamples: Int = NtkSapPruner.defaultResamples) throws -> SparseInitialization {
        guard density > 0 && density <= 1 else { throw NTTError("--density must be in (0, 1], got \(density)") }
        try NtkSapPruner.checkResamples(ntkSapResamples)
        let params = model.initialize(seed: seed)
        if needsInputs && batch == nil { throw NTTError("method \(rawValue) needs training examples") }
        let weights = params.map(\.weight)
        let masks: [Tensor]
        switch self {
        case .dense:
            masks = weights.map { Tensor.ones($0.shape) }
        case .random, .scaledRandom:
            masks = RandomPruner.masks(shapes: weights.map(\.shape), density: density, scope: scope, seed: seed)
        case .magnitude:
            masks = MagnitudePruner.masks(weights: weights, density: density, scope: scope)
        case .snip:
            masks = MaskSelection.masks(scores: SnipPruner.scores(model: model, parameters: params,
                                                                  images: batch!.images, labels: batch!.labels),
                                        density: density, scope: scope)
        case .logitSnip:
            masks = LogitSnipPruner.masks(model: model, parameters: params, inputs: batch!.images,
                                          density: density, scope: scope)
        case .grasp:
            masks = MaskSelection.masks(scores: GraspPruner.scores(model: model, parameters: params,
                                                                   images: batch!.images, labels: batch!.labels),
                                        density: density, scope: scope)
        case .synflow:
            masks = SynFlowPruner.masks(model: model, parameters: params, density: density, scope: scope)
        case .ntkSap:
            masks = NtkSapPruner.masks(model: model, density: density, scope: scope, seed: seed,
                                       resamples: ntkSapResamples)
        }
        let parameters = self == .scaledRandom ? RandomPruner.scaled(params, density: density) : params
        return SparseInitialization(parameters: parameters, masks: masks)
    }
}
