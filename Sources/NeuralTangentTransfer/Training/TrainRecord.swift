/// One line of a training run's `metrics.jsonl`.
public struct TrainRecord: Codable, Sendable, Equatable {
    public var iteration: Int
    public var epoch: Double
    /// Mean training loss (cross-entropy + L2) since the previous record.
    public var loss: Double
    public var trainAccuracy: Double
    public var testAccuracy: Double
    /// True for the last record: accuracy on the whole training split and test set.
    public var final: Bool
    /// With a dense reference run: Σ(f − f_ref)²/|f| on the probe of test inputs at this iteration,
    /// and the fraction of probe inputs on which both predict the same class (set by the run).
    public var outputDistance: Double? = nil
    public var agreement: Double? = nil
}
