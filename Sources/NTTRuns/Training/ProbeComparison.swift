import NeuralTangentTransfer

/// A sparse run against its dense reference at one training iteration, on the fixed probe of
/// test inputs (`ProbeOutputs`): the output distance Σ(f − f_ref)²/|f| (the normalisation of the
/// transfer's `target_distance`) and the fraction of probe inputs on which both predict the same class.
public struct ProbeComparison: Codable, Sendable, Equatable {
    public var iteration: Int
    public var outputDistance: Double
    public var agreement: Double

    public init(iteration: Int, outputDistance: Double, agreement: Double) {
        self.iteration = iteration; self.outputDistance = outputDistance; self.agreement = agreement
    }

    /// Compares outputs [n, k] with the reference's [n, k] at `iteration`.
    public init(iteration: Int, outputs: Tensor, reference: Tensor) {
        precondition(outputs.shape == reference.shape, "ProbeComparison: \(outputs.shape) vs \(reference.shape)")
        let same = zip(Trainer.predictedClasses(outputs), Trainer.predictedClasses(reference)).filter { $0 == $1 }
        self.init(iteration: iteration, outputDistance: KernelRun.distance(outputs, reference),
                  agreement: Double(same.count) / Double(max(outputs.shape[0], 1)))
    }
}
