import NTTKernels
import NTTLayers
#if canImport(Glibc)
import Glibc
#endif

/// Adam (Kingma & Ba), as `jax.example_libraries.optimizers.adam`:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η·m̂/(√v̂ + ε)
/// with bias-corrected m̂, v̂.
/// Works on plain arrays (no tape); its state is `Codable` for checkpoints.
public struct Adam: Sendable, Codable, Equatable {
    public var learningRate: Float
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    /// Steps taken so far.
    public private(set) var step = 0
    /// First and second moments, one array per parameter tensor.
    public private(set) var m: [[Float]] = [], v: [[Float]] = []

    public init(learningRate: Float) { self.learningRate = learningRate }

    /// Applies one update to `parameters` in place, given gradients of the same shapes.
    ///
    /// - Parameters:
    ///   - penalties: optional λₜ per tensor: the gradient of Σₜ λₜ‖θₜ‖² is added in the same
    ///     pass (2λₜθₜ). Returns that penalty's value before the update (0 without penalties).
    ///   - frozen: optional 0/1 masks per tensor (nil: none): where a mask is 0 the element and
    ///     its moments are left exactly as they are (a transfer's `PrunedUpdates.frozen`).
    @discardableResult
    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], penalties: [Float]? = nil,
                                frozen: [Tensor?]? = nil) -> Float {
        precondition(frozen == nil || frozen!.count == parameters.count,
                     "Adam: \(frozen?.count ?? 0) masks for \(parameters.count) parameters")
        if m.isEmpty {
            m = parameters.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        let c1 = 1 - pow(beta1, Float(step)), c2 = 1 - pow(beta2, Float(step))
        // η·m̂/(√v̂ + ε) = (η/c₁)·m / (√v/√c₂ + ε): the bias corrections folded into two scalars.
        let stepScale = learningRate / c1, rootScale = 1 / c2.squareRoot()
        let (beta1, beta2, epsilon) = (self.beta1, self.beta2, self.epsilon)
        return OptimizerPass.run("Adam", &parameters, gradients: gradients, penalties: penalties) { t, x, g, decay in
            let c = OptimizerKernels.AdamStep(beta1: beta1, beta2: beta2, stepScale: stepScale, rootScale: rootScale,
                                              epsilon: epsilon, decay: decay)
            return m[t].withUnsafeMutableBufferPointer { mt in
                v[t].withUnsafeMutableBufferPointer { vt in
                    let (m, v) = (mt.baseAddress!, vt.baseAddress!)
                    guard let mask = frozen?[t] else {
                        return OptimizerPass.chunks(count: mt.count) { i, n in
                            OptimizerKernels.adam(x + i, gradients: g + i, m: m + i, v: v + i, count: n, c)
                        }
                    }
                    precondition(mask.count == mt.count, "Adam: mask of \(mask.count) for \(mt.count) elements")
                    return mask.scalars.withUnsafeBufferPointer { keep in
                        OptimizerPass.chunks(count: mt.count) { i, n in
                            OptimizerKernels.adam(x + i, gradients: g + i, m: m + i, v: v + i,
                                                  keep: keep.baseAddress! + i, count: n, c)
                        }
                    }
                }
            }
        }
    }
}

extension Adam {
    /// Restores the state saved in a checkpoint.
    public mutating func restore(step: Int, m: [[Float]], v: [[Float]]) {
        self.step = step; self.m = m; self.v = v
    }
}
