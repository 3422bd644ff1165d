import NTTLayers

/// Adam (Kingma & Ba), as `jax.example_libraries.optimizers.adam`:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η·m̂/(√v̂ + ε) with bias-corrected m̂, v̂.
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
    /// - Parameter penalties: optional λₜ per tensor: the gradient of Σₜ λₜ‖θₜ‖² is added in the
    ///   same pass (2λₜθₜ). Returns that penalty's value before the update (0 without penalties).
    @discardableResult
    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], penalties: [Float]? = nil) -> Float {
        precondition(parameters.count == gradients.count, "Adam: \(parameters.count) parameters but \(gradients.count) gradients")
        precondition(penalties == nil || penalties!.count == parameters.count, "Adam: \(penalties?.count ?? 0) penalties for \(parameters.count) parameters")
        if m.isEmpty {
            m = parameters.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        let c1 = 1 - pow(beta1, Float(step)), c2 = 1 - pow(beta2, Float(step))
        // η·m̂/(√v̂ + ε) = (η/c₁)·m / (√v/√c₂ + ε): the bias corrections folded into two scalars.
        let stepScale = learningRate / c1, rootScale = 1 / c2.squareRoot()
        var penalty: Float = 0
        for t in parameters.indices {
            precondition(parameters[t].shape == gradients[t].shape, "Adam: gradient shape \(gradients[t].shape) differs from parameter shape \(parameters[t].shape)")
            let lambda = penalties?[t] ?? 0
            let squares = parameters[t].withMutableScalars { x in
                gradients[t].scalars.withUnsafeBufferPointer { g in
                    m[t].withUnsafeMutableBufferPointer { mt in
                        v[t].withUnsafeMutableBufferPointer { vt in
                            OptimizerChunks.run(count: x.count) { range in
                                let i = range.lowerBound
                                return OptimizerKernels.adam(x.baseAddress! + i, gradients: g.baseAddress! + i, m: mt.baseAddress! + i,
                                                             v: vt.baseAddress! + i, count: range.count, beta1: beta1, beta2: beta2,
                                                             stepScale: stepScale, rootScale: rootScale, epsilon: epsilon, decay: 2 * lambda)
                            }
                        }
                    }
                }
            }
            penalty += lambda * squares
        }
        return penalty
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension Adam {
    /// Restores the state saved in a checkpoint.
    public mutating func restore(step: Int, m: [[Float]], v: [[Float]]) {
        self.step = step; self.m = m; self.v = v
    }
}

/// Optimiser passes over fixed chunks of a tensor, run through `Parallel`: the chunks depend on
/// the size only and their Σx² are added in chunk order, so results do not depend on the threads.
enum OptimizerChunks {
    static let size = 32_768

    static func run(count: Int, _ body: (Range<Int>) -> Float) -> Float {
        let chunks = (count + size - 1) / size
        if chunks <= 1 { return count == 0 ? 0 : body(0..<count) }
        var sums = [Float](repeating: 0, count: chunks)
        sums.withUnsafeMutableBufferPointer { sums in
            Parallel.forEach(parts: chunks) { c in sums[c] = body((c * size)..<min(count, (c + 1) * size)) }
        }
        return sums.reduce(0, +)
    }
}
