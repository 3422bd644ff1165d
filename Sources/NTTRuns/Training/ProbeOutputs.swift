import Foundation
import NeuralTangentTransfer

/// A training run's outputs on a fixed probe of test inputs (the first `probeSize` test images),
/// before the first iteration and at every evaluation: `probe-outputs.safetensors` in every
/// training run folder. A later sparse run started with `--reference` on this folder compares its
/// own outputs with them at the same iterations (`ProbeComparison`), on this machine or another.
///
/// File: one F32 tensor `outputs.{t}` of shape [n, k] per recorded iteration t (logits of the masked
/// network, rows in test-set order); metadata `iterations` (a JSON list) and `fingerprint` (a JSON
/// object, `Fingerprint`), plus the model and tool. Cost: one forward pass of 256 inputs per
/// evaluation, about 4 batches' forward passes every `--evaluate-every` (100) iterations, against a
/// step's forward and backward pass on one batch every iteration: ≈ 1.3% of the training steps
/// (the periodic accuracies already evaluate 4000 inputs at each record).
public struct ProbeOutputs: Sendable {
    public static let fileName = "probe-outputs.safetensors"
    /// Test inputs in the probe (fewer if the test set is smaller).
    public static let probeSize = 256

    /// What must match for two runs' outputs to be comparable iteration by iteration: lockstep
    /// training (same data, order, seed, batch size) and the same probe and evaluation times.
    public struct Fingerprint: Codable, Sendable, Equatable {
        public var model: String
        public var dataset: String
        public var seed: UInt64
        public var batchSize: Int
        public var validationFraction: Double
        public var evaluateEvery: Int
        public var totalIterations: Int
        public var probeInputs: Int
        /// `DataDigest` of the probe's prepared inputs.
        public var probeDigest: String
        /// `Trainer.dataOrderDigest()`: the training examples and their order.
        public var dataOrderDigest: String

        /// The first field that differs from `other`'s, as "NAME is A here but B there", or nil.
        public func difference(from other: Fingerprint) -> String? {
            let fields: [(String, String, String)] = [
                ("model", model, other.model), ("dataset", dataset, other.dataset),
                ("seed", String(seed), String(other.seed)), ("batch size", String(batchSize), String(other.batchSize)),
                ("validation fraction", String(validationFraction), String(other.validationFraction)),
                ("evaluate-every", String(evaluateEvery), String(other.evaluateEvery)),
                ("iterations", String(totalIterations), String(other.totalIterations)),
                ("probe size", String(probeInputs), String(other.probeInputs)),
                ("probe inputs (digest)", probeDigest, other.probeDigest),
                ("data order (digest)", dataOrderDigest, other.dataOrderDigest),
            ]
            return fields.first { $0.1 != $0.2 }.map { "its \($0.0) is \($0.2), this run's is \($0.1)" }
        }
    }

    public var fingerprint: Fingerprint
    public var iterations: [Int] = []
    public var outputs: [Tensor] = []

    public init(fingerprint: Fingerprint) { self.fingerprint = fingerprint }

    /// The probe of a trainer's test set, prepared for its model.
    public static func probe(_ dataset: Dataset, model: Model) -> Tensor {
        model.prepare(dataset.test.batch(Array(0..<min(probeSize, dataset.test.count))).images)
    }

    public mutating func append(iteration: Int, outputs y: Tensor) {
        iterations.append(iteration); outputs.append(y)
    }

    /// The outputs recorded at `iteration`, if any.
    public func outputs(at iteration: Int) -> Tensor? { iterations.firstIndex(of: iteration).map { outputs[$0] } }

    public func write(to folder: RunFolder) throws {
        let metadata = ["iterations": try RunJSON.string(iterations), "fingerprint": try RunJSON.string(fingerprint),
                        "model": fingerprint.model, "tool": "ntt \(NTTVersion.current)",
                        "layout": "outputs.{t}[i, a] = logit a of test input i at training iteration t"]
        try folder.writeTensors(zip(iterations, outputs).map { ("outputs.\($0)", $1) }, metadata: metadata,
                                to: Self.fileName)
    }

    /// Reads the probe outputs of the training run in `path` (a run folder or the file itself);
    /// errors name `flag`.
    public static func load(_ path: String, flag: String = "--reference") throws -> ProbeOutputs {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let file = isDirectory.boolValue ? RunFolder(path: path).file(fileName).path : path
        guard FileManager.default.fileExists(atPath: file) else {
            throw NTTError("\(flag) \(path): no \(fileName) there (is it a finished training run?)")
        }
        let stored: SafeTensorsFile
        do { stored = try SafeTensors.read(file) } catch { throw NTTError("\(flag) \(error)") }
        guard let fingerprintText = stored.metadata["fingerprint"], let iterationsText = stored.metadata["iterations"],
              let fingerprint = try? RunJSON.decoder.decode(Fingerprint.self, from: Data(fingerprintText.utf8)),
              let iterations = try? RunJSON.decoder.decode([Int].self, from: Data(iterationsText.utf8)) else {
            throw NTTError("\(flag) \(file): no valid 'fingerprint' and 'iterations' in its metadata")
        }
        var result = ProbeOutputs(fingerprint: fingerprint)
        for t in iterations {
            guard let y = stored.tensors["outputs.\(t)"], y.shape.count == 2, y.shape[0] == fingerprint.probeInputs
            else {
                throw NTTError("\(flag) \(file): tensor outputs.\(t) is missing or not [\(fingerprint.probeInputs), k]")
            }
            result.append(iteration: t, outputs: y)
        }
        return result
    }

    /// Checks that runs with these fingerprints ran in lockstep; the error names `flag`.
    public static func check(_ reference: ProbeOutputs, against mine: Fingerprint, path: String,
                             flag: String = "--reference") throws {
        if let difference = mine.difference(from: reference.fingerprint) {
            throw NTTError("\(flag) \(path) is not comparable with this run: \(difference)")
        }
    }
}
