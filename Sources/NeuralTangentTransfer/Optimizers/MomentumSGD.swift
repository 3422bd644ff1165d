/// SGD with momentum: v ← μv + g, θ ← θ − ηv.
public struct MomentumSGD: Sendable, Codable, Equatable {
    public var learningRate: Float
    public var momentum: Float
    var velocity: [[Float]] = []
    public init(learningRate: Float, momentum: Float) { self.learningRate = learningRate; self.momentum = momentum }

    /// Applies one update in place; `penalties` as in `Adam.update`.
    @discardableResult
    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], penalties: [Float]? = nil) -> Float {
        precondition(parameters.count == gradients.count, "MomentumSGD: \(parameters.count) parameters but \(gradients.count) gradients")
        precondition(penalties == nil || penalties!.count == parameters.count, "MomentumSGD: \(penalties?.count ?? 0) penalties for \(parameters.count) parameters")
        if velocity.isEmpty { velocity = parameters.map { [Float](repeating: 0, count: $0.count) } }
        var penalty: Float = 0
        for t in parameters.indices {
            precondition(parameters[t].shape == gradients[t].shape, "MomentumSGD: gradient shape \(gradients[t].shape) differs from parameter shape \(parameters[t].shape)")
            let lambda = penalties?[t] ?? 0
            let squares = parameters[t].withMutableScalars { x in
                gradients[t].scalars.withUnsafeBufferPointer { g in
                    velocity[t].withUnsafeMutableBufferPointer { u in
                        OptimizerChunks.run(count: x.count) { range in
                            let i = range.lowerBound
                            return OptimizerKernels.momentum(x.baseAddress! + i, gradients: g.baseAddress! + i, velocity: u.baseAddress! + i,
                                                             count: range.count, learningRate: learningRate, momentum: momentum, decay: 2 * lambda)
                        }
                    }
                }
            }
            penalty += lambda * squares
        }
        return penalty
    }
}
