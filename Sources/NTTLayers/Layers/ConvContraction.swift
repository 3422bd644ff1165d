/// How a conv layer's NTK term is contracted (`ConvLayer.Trace.kernelTerm`); `automatic` picks
/// the exact form with fewer multiply-adds.
public enum ConvContraction: String, Sendable, CaseIterable {
    case automatic, jacobian, patch
}
