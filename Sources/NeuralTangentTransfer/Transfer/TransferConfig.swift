import NTTLayers

/// Every setting of a transfer run (written to `config.json`). Defaults follow SPEC §2.
public struct TransferConfig: Codable, Sendable, Equatable {
    /// A built-in model name or a spec string.
    public var model: String = "lenet-300-100"
    public var dataset: String = "fashion-mnist"
    public var dataDirectory: String? = nil
    /// Fraction of weights kept, in (0, 1].
    public var density: Double = 0.03
    public var seed: UInt64 = 0
    /// Length of the run: `iterations` wins over `epochs` when both are set.
    public var epochs: Int = 20
    public var iterations: Int? = nil
    public var batchSize: Int = 64
    public var learningRate: Float = 5e-4
    /// Adam (the default, as the paper) or plain SGD (the original code's other choice).
    public var optimizer: TrainConfig.OptimizerKind = .adam
    public var lambdaKernel: Float = 1e-3
    /// Defaults to 1e-4 for models without conv layers, 1e-5 for CNNs.
    public var lambdaL2: Float? = nil
    public var maskUpdateEvery: Int = 100
    public var prune: PruningScope = .layerwise
    public var initialMask: InitialMask = .magnitude
    public var kernelScope: KernelScope = .effective
    /// What happens to masked-out weights in a step (the original's `momentum` by default).
    public var prunedUpdates: PrunedUpdates = .momentum
    /// Fraction of the training set held out; the probe is its first `batchSize` inputs. The split
    /// is the same for every seed (`validationSplitSeed`), as the original's one fixed split.
    public var validationFraction: Double = 0.002

    /// The seed of the validation split, whatever the run's seed.
    public static let validationSplitSeed: UInt64 = 0
    /// Probe metrics every this many iterations (and before the first and after the last).
    public var recordEvery: Int = 100

    public enum InitialMask: String, Codable, Sendable, CaseIterable {
        case magnitude
        case logitSnip = "logit-snip"
    }

    public init() {}

    /// Missing keys take their defaults, so that the config of a run started before a setting
    /// existed (e.g. `pruned_updates`) still reads, and its checkpoint resumes.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TransferConfig()
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? d.model
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset) ?? d.dataset
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory)
        density = try c.decodeIfPresent(Double.self, forKey: .density) ?? d.density
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        iterations = try c.decodeIfPresent(Int.self, forKey: .iterations)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        optimizer = try c.decodeIfPresent(TrainConfig.OptimizerKind.self, forKey: .optimizer) ?? d.optimizer
        lambdaKernel = try c.decodeIfPresent(Float.self, forKey: .lambdaKernel) ?? d.lambdaKernel
        lambdaL2 = try c.decodeIfPresent(Float.self, forKey: .lambdaL2)
        maskUpdateEvery = try c.decodeIfPresent(Int.self, forKey: .maskUpdateEvery) ?? d.maskUpdateEvery
        prune = try c.decodeIfPresent(PruningScope.self, forKey: .prune) ?? d.prune
        initialMask = try c.decodeIfPresent(InitialMask.self, forKey: .initialMask) ?? d.initialMask
        kernelScope = try c.decodeIfPresent(KernelScope.self, forKey: .kernelScope) ?? d.kernelScope
        prunedUpdates = try c.decodeIfPresent(PrunedUpdates.self, forKey: .prunedUpdates) ?? d.prunedUpdates
        validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? d.validationFraction
        recordEvery = try c.decodeIfPresent(Int.self, forKey: .recordEvery) ?? d.recordEvery
    }

    /// λ₂ in effect for `model`.
    public func effectiveLambdaL2(for model: Model) -> Float {
        if let lambdaL2 { return lambdaL2 }
        let hasConv = model.spec.layers.contains { if case .conv = $0 { return true }; return false }
        return hasConv ? 1e-5 : 1e-4
    }

    /// Checks ranges; the message names the offending setting as its CLI flag.
    public func validate() throws(NTTError) {
        guard density > 0 && density <= 1 else { throw NTTError("--density must be in (0, 1], got \(density)") }
        guard batchSize >= 2 && batchSize % 2 == 0 else {
            throw NTTError("--batch-size must be an even number ≥ 2 (the batch is split into halves), "
                           + "got \(batchSize)")
        }
        guard epochs > 0 else { throw NTTError("--epochs must be positive, got \(epochs)") }
        if let iterations, iterations <= 0 { throw NTTError("--iterations must be positive, got \(iterations)") }
        guard learningRate > 0 && learningRate.isFinite else {
            throw NTTError("--lr must be a positive number, got \(learningRate)")
        }
        guard lambdaKernel >= 0 && lambdaKernel.isFinite else {
            throw NTTError("--lambda-kernel must be ≥ 0, got \(lambdaKernel)")
        }
        if let lambdaL2, !(lambdaL2 >= 0 && lambdaL2.isFinite) {
            throw NTTError("--lambda-l2 must be ≥ 0, got \(lambdaL2)")
        }
        guard maskUpdateEvery > 0 else {
            throw NTTError("--mask-update-every must be positive, got \(maskUpdateEvery)")
        }
        guard recordEvery > 0 else { throw NTTError("--record-every must be positive, got \(recordEvery)") }
        guard validationFraction > 0 && validationFraction < 1 else {
            throw NTTError("validation fraction must be in (0, 1), got \(validationFraction)")
        }
    }
}
