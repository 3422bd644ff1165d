import NTTAutodiff

/// The weight and bias of one dense or conv layer.
public struct LayerParameters: Sendable {
    /// Dense: [in, out]; conv: [kh, kw, cin, cout].
    public var weight: Tensor
    /// [out] or [cout].
    public var bias: Tensor
    public init(weight: Tensor, bias: Tensor) { self.weight = weight; self.bias = bias }
}
