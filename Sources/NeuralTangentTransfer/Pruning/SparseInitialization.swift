import NTTLayers

/// A sparse initialisation: parameters, 0/1 masks, and the kept count per layer.
public struct SparseInitialization: Sendable {
    public var parameters: [LayerParameters]
    public var masks: [Tensor]
    public var keptPerLayer: [Int] { MaskSelection.keptCounts(masks) }

    public init(parameters: [LayerParameters], masks: [Tensor]) {
        self.parameters = parameters; self.masks = masks
    }
}
