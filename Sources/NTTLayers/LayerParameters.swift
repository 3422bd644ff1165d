import NTTAutodiff
import NTTKernels

/// The weight and bias of one dense or conv layer.
public struct LayerParameters: Sendable {
    /// Dense: [in, out]; conv: [kh, kw, cin, cout].
    public var weight: Tensor
    /// [out] or [cout].
    public var bias: Tensor
    /// When set (only by `Model.tracedParameters`, for a rule that takes it), `weight` is the raw
    /// weight w and the layer's effective weight is w ⊙ m for this mask, multiplied sparsely.
    package var sparseMask: SparsePattern?

    public init(weight: Tensor, bias: Tensor) { self.weight = weight; self.bias = bias }

    package init(weight: Tensor, bias: Tensor, sparseMask: SparsePattern?) {
        self.weight = weight; self.bias = bias; self.sparseMask = sparseMask
    }
}
