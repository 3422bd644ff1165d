import NTTKernels
@_exported import NTTAutodiff

/// One layer of a sequential model, as plain data (stax-style): what it is and its settings.
/// Parameters live apart from the description (see `LayerParameters`).
public enum Layer: Sendable, Hashable {
    /// y = x·W + b with W of shape [in, units] (x must be flat: [N, in]).
    case dense(units: Int)
    /// y = conv(x, W) + b, NHWC input, HWIO filter [kh, kw, cin, filters].
    case conv(filters: Int, kernel: Window, stride: Window, padding: Padding)
    /// max(x, 0).
    case relu
    /// Max over windows; derivative to the first maximal element.
    case maxPool(window: Window, stride: Window, padding: Padding)
    /// Mean over windows (in-image elements only with `same`).
    case avgPool(window: Window, stride: Window, padding: Padding)
    /// [N, H, W, C] → [N, H·W·C] in NHWC order.
    case flatten
    /// Zeroes each element with probability `rate` during training and scales the survivors by
    /// 1/(1−rate); the identity at evaluation. (Note: stax's `Dropout(rate)` takes the *keep*
    /// probability; ours is the drop probability, as in PyTorch.)
    case dropout(rate: Double)

    /// Whether the layer owns a weight and a bias.
    public var isParametrised: Bool { rule.hasParameters }

    /// The layer's rule (shape, parameters, apply, trace): the one place a case meets its family.
    package var rule: any LayerRule {
        switch self {
        case .dense(let units): return DenseLayer(units: units)
        case .conv(let filters, let kernel, let stride, let padding):
            return ConvLayer(filters: filters, kernel: kernel, stride: stride, padding: padding)
        case .relu: return ReLULayer()
        case .maxPool(let window, let stride, let padding):
            return MaxPoolLayer(window: window, stride: stride, padding: padding)
        case .avgPool(let window, let stride, let padding):
            return AvgPoolLayer(window: window, stride: stride, padding: padding)
        case .flatten: return FlattenLayer()
        case .dropout(let rate): return DropoutLayer(rate: rate)
        }
    }
}
