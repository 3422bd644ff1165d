import Foundation
import NTTLayers

/// Settings of a supervised training run (the "exploit" phase, SPEC §3); written to `config.json`.
public struct TrainConfig: Codable, Sendable, Equatable {
    public var model: String = "lenet-300-100"
    public var dataset: String = "fashion-mnist"
    public var dataDirectory: String? = nil
    public var density: Double = 1
    /// The scope of a pruning method's masks (each method's own by default).
    public var prune: PruningScopeChoice = .native
    /// `ntk-sap`'s fresh draws of θ per round (the reference's `--ntksap_R`).
    public var ntkSapResamples: Int = NtkSapPruner.defaultResamples
    public var seed: UInt64 = 0
    public var epochs: Int = 50
    public var iterations: Int? = nil
    public var batchSize: Int = 64
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0.9
    /// λ in λ·Σ‖w ⊙ m‖² (weights only).
    public var weightDecay: Float = 1e-8
    public var schedule: Schedule = .constant
    /// Fraction of the training set held out (not trained on).
    public var validationFraction: Double = 0.1
    /// Accuracy on fixed subsets every this many iterations; the final record uses the whole test set.
    public var evaluateEvery: Int = 100
    /// Size of the fixed train/test subsets used for periodic accuracy.
    public var evaluationSubset: Int = 2000

    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case adam, sgd }
    public enum Schedule: String, Codable, Sendable, CaseIterable { case constant, cosine, step }

    public init() {}

    public func validate() throws(NTTError) {
        guard density > 0 && density <= 1 else { throw NTTError("--density must be in (0, 1], got \(density)") }
        guard epochs > 0 else { throw NTTError("--epochs must be positive, got \(epochs)") }
        try NtkSapPruner.checkResamples(ntkSapResamples)
        if let iterations, iterations <= 0 { throw NTTError("--iterations must be positive, got \(iterations)") }
        guard batchSize > 0 else { throw NTTError("--batch-size must be positive, got \(batchSize)") }
        guard learningRate > 0 && learningRate.isFinite else {
            throw NTTError("--lr must be a positive number, got \(learningRate)")
        }
        guard weightDecay >= 0 && weightDecay.isFinite else {
            throw NTTError("--weight-decay must be ≥ 0, got \(weightDecay)")
        }
        guard momentum >= 0 && momentum < 1 else { throw NTTError("--momentum must be in [0, 1), got \(momentum)") }
        guard evaluateEvery > 0 else { throw NTTError("--evaluate-every must be positive, got \(evaluateEvery)") }
        guard validationFraction >= 0 && validationFraction < 1 else {
            throw NTTError("validation fraction must be in [0, 1), got \(validationFraction)")
        }
    }

    /// Learning rate at iteration t (0-based) of T.
    func learningRate(at t: Int, of total: Int) -> Float {
        switch schedule {
        case .constant: return learningRate
        case .cosine: return learningRate * 0.5 * (1 + Float(cos(Double.pi * Double(t) / Double(max(total, 1)))))
        case .step: return learningRate * pow(0.1, Float(t * 3 / max(total, 1)))  // ÷10 at 1/3 and 2/3
        }
    }
}
