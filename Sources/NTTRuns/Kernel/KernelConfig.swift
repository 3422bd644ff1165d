import NeuralTangentTransfer

/// Settings of a kernel run: the empirical NTK of a checkpoint on the first `count` test inputs.
public struct KernelConfig: Codable, Sendable, Equatable {
    /// Which input pairs: the first half against the second ([n/2, n/2, k, k]), or all against all.
    public enum Pairs: String, Codable, Sendable, CaseIterable { case halves, all }

    /// A safetensors checkpoint or a run folder (its student, init or model file).
    public var checkpoint: String
    /// A second checkpoint whose kernel on the same inputs is compared.
    public var against: String? = nil
    /// The model; default: the one recorded in the checkpoint.
    public var model: String? = nil
    public var dataset: String = DatasetName.fashionMNIST.rawValue
    public var dataDirectory: String? = nil
    public var count: Int = 64
    public var scope: KernelScope = .effective
    public var pairs: Pairs = .halves

    public init(checkpoint: String) { self.checkpoint = checkpoint }

    public func validate() throws(NTTError) {
        guard count >= 2 else { throw NTTError("--count must be at least 2, got \(count)") }
        if pairs == .halves && count % 2 != 0 {
            throw NTTError("--count must be even with --pairs halves, got \(count)")
        }
    }
}
