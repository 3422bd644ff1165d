import Foundation
import NeuralTangentTransfer

/// How far a sparse initialisation starts from the dense network it was cut from (issue 14):
/// the NTK distance Σ(Θ_s − Θ_d)²/|Θ| and the output distance Σ(f_s − f_d)²/|f| on the transfer's
/// probe, exactly the `ntk_distance` and `target_distance` a transfer records (`TransferLoss`'s
/// terms, kernel w.r.t. the effective weights w ⊙ m, the transfer's default scope).
///
/// The dense network is the one with the same initial weights: for a pruning method the unpruned
/// fresh initialisation of the seed (`model.initialize(seed:)`, the transfer's teacher for that
/// seed); for a transfer run its `teacher.safetensors`, on its own `probe.safetensors`. A
/// checkpoint names no dense network, so it has no initial distance.
///
/// Cost: two NTKs of one probe pair (two halves of 32 inputs with the defaults), once per run:
/// about 2 × 1.7 ms for LeNet-300-100 and 2 × 90 ms for LeNet-5 (the `ntk/…` benchmarks).
public struct InitialDistance: Codable, Sendable, Equatable {
    public var ntkDistance: Double
    public var targetDistance: Double
    /// Inputs in the probe; the kernel is between its two halves.
    public var probeInputs: Int

    public init(ntkDistance: Double, targetDistance: Double, probeInputs: Int) {
        self.ntkDistance = ntkDistance; self.targetDistance = targetDistance; self.probeInputs = probeInputs
    }

    /// The distances between `sparse` and the dense `parameters` on `probe` (prepared inputs, an
    /// even number of them), as the transfer computes them.
    public static func measure(model: Model, sparse: SparseInitialization, dense: [LayerParameters],
                               probe: Tensor) -> InitialDistance {
        let n = probe.shape[0], half = n / 2
        let x1 = probe.slice(rows: 0..<half), x2 = probe.slice(rows: half..<n)
        let targets = TransferLoss.Targets.teacher(model: model, parameters: dense, x1: x1, x2: x2)
        let loss = TransferLoss(lambdaKernel: 1, lambdaL2: 0, density: 1, scope: .effective)
        let terms = withoutDerivatives {
            loss.evaluate(model: model, parameters: sparse.parameters, masks: sparse.masks, x1: x1, x2: x2,
                          targets: targets)
        }
        return InitialDistance(ntkDistance: Double(terms.ntkDistance.scalar),
                               targetDistance: Double(terms.targetDistance.scalar), probeInputs: n)
    }

    /// The distances of `initialization`'s sparse network (already resolved as `sparse`) to its
    /// dense network, or nil when it has none (a checkpoint) or the dataset is too small for the
    /// transfer's default probe.
    public static func measure(_ initialization: Initialization, sparse: SparseInitialization, model: Model,
                               seed: UInt64, dataset: Dataset) throws -> InitialDistance? {
        switch initialization {
        case .checkpoint:
            return nil
        case .pruning:
            guard let (_, images) = try? TransferRun.split(dataset, config: TransferConfig()) else { return nil }
            return measure(model: model, sparse: sparse, dense: model.initialize(seed: seed),
                           probe: model.prepare(images))
        case .transferRun(let path):
            let folder = RunFolder(path: path)
            let teacherFile = folder.file(TransferRun.teacherName).path
            let probeFile = folder.file(TransferRun.probeName).path
            guard FileManager.default.fileExists(atPath: teacherFile),
                  FileManager.default.fileExists(atPath: probeFile) else { return nil }
            let teacher = try ModelCheckpoint.load(teacherFile, model: model)
            guard let probe = try SafeTensors.read(probeFile).tensors["x"],
                  probe.shape.count == model.inputShape.count + 1, Array(probe.shape.dropFirst()) == model.inputShape,
                  probe.shape[0] >= 2 else {
                throw NTTError("--init \(path): \(TransferRun.probeName) holds no probe 'x' for \(model.spec)")
            }
            return measure(model: model, sparse: sparse, dense: teacher.parameters, probe: probe)
        }
    }
}
