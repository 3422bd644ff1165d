import NeuralTangentTransfer

/// The settings of a run: checked as a whole before the run writes anything.
public protocol RunSettings: Sendable {
    /// Throws an `NTTError` naming the offending setting as its command-line flag.
    func validate() throws
}

extension RunSettings {
    /// The settings, once they have passed `validate()`.
    public func validated() throws -> Self {
        try validate()
        return self
    }
}

extension TransferConfig: RunSettings {}
extension TrainingRunConfig: RunSettings {}
extension PruneConfig: RunSettings {}
extension KernelConfig: RunSettings {}
extension DemoConfig: RunSettings {}
extension ExperimentConfig: RunSettings {}
