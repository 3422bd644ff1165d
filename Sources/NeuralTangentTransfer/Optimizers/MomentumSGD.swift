import NTTKernels
/// SGD with momentum: v ← μv + g, θ ← θ − ηv.
public struct MomentumSGD: Sendable, Codable, Equatable {
    public var learningRate: Float
    public var momentum: Float
    var velocity: [[Float]] = []
    public init(learningRate: Float, momentum: Float) { self.learningRate = learningRate; self.momentum = momentum }

    /// Applies one update in place; `penalties` as in `Adam.update`.
    @discardableResult
    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], penalties: [Float]? = nil) -> Float {
        if velocity.isEmpty { velocity = parameters.map { [Float](repeating: 0, count: $0.count) } }
        let (learningRate, momentum) = (self.learningRate, self.momentum)
        return OptimizerPass.run("MomentumSGD", &parameters, gradients: gradients,
                                 penalties: penalties) { t, x, g, decay in
            velocity[t].withUnsafeMutableBufferPointer { u in
                OptimizerPass.chunks(count: u.count) { i, n in
                    OptimizerKernels.momentum(x + i, gradients: g + i, velocity: u.baseAddress! + i, count: n,
                                              learningRate: learningRate, momentum: momentum, decay: decay)
                }
            }
        }
    }
}
