import Foundation
import NeuralTangentTransfer

/// What a supervised run starts from: a finished transfer run (its student), a pruning method
/// applied to a fresh initialisation, or a checkpoint (a prune run's `init.safetensors`, any
/// file with SPEC §5 names, or a folder holding one).
public enum Initialization: Sendable, Equatable, Codable, CustomStringConvertible {
    case transferRun(String)
    case pruning(PruningMethod)
    case checkpoint(String)

    /// Reads the `--init` text: a method name; a transfer run folder (it holds
    /// `student.safetensors`); any other existing path as a checkpoint.
    public init(parsing text: String) throws {
        if let method = PruningMethod(rawValue: text) {
            self = .pruning(method)
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory) else {
            throw NTTError("--init '\(text)' is neither a run folder, a checkpoint, "
                           + "nor a method (\(PruningMethod.names))")
        }
        let isTransfer = isDirectory.boolValue && RunFolder(path: text).contains(TransferRun.studentName)
        self = isTransfer ? .transferRun(text) : .checkpoint(text)
    }

    /// The pruning method, when this is one.
    public var method: PruningMethod? {
        if case .pruning(let m) = self { return m }
        return nil
    }

    public var description: String {
        switch self {
        case .transferRun(let path): return "transfer run \(path)"
        case .pruning(let m): return m.rawValue
        case .checkpoint(let path): return "checkpoint \(path)"
        }
    }

    /// The checkpoint file a path refers to: a transfer run's `student.safetensors`, a prune
    /// run's `init.safetensors`, a training run's `model.safetensors`, or the file itself.
    public static func checkpointFile(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return path
        }
        let folder = RunFolder(path: path)
        for name in [TransferRun.studentName, PruneRun.outputName, TrainingRun.outputName] where folder.contains(name) {
            return folder.file(name).path
        }
        return folder.file(TransferRun.studentName).path
    }

    /// Parameters and masks for `model`: drawn and pruned (from `seed`, to `density` in
    /// `scope`; `batch` is asked for only by data-dependent methods; `ntkSapResamples` as
    /// `PruningMethod.initialize`), or loaded and checked against the model.
    public func resolve(model: Model, density: Double, scope: PruningScope, seed: UInt64,
                        ntkSapResamples: Int = NtkSapPruner.defaultResamples,
                        batch: () -> (images: Tensor, labels: [Int])) throws -> SparseInitialization {
        switch self {
        case .pruning(let method):
            return try method.initialize(model: model, density: density, scope: scope, seed: seed,
                                         batch: method.needsInputs ? batch() : nil, ntkSapResamples: ntkSapResamples)
        case .transferRun(let path), .checkpoint(let path):
            let file = Self.checkpointFile(path)
            guard FileManager.default.fileExists(atPath: file) else {
                throw NTTError("--init \(path): no student.safetensors or init.safetensors there "
                               + "(is the transfer finished?)")
            }
            let c = try ModelCheckpoint.load(file, model: model)
            return SparseInitialization(parameters: c.parameters,
                                        masks: c.masks ?? model.parameterShapes.map { Tensor.ones($0.weight) })
        }
    }

    // Codable as a one-key object: {"pruning": "snip"}, {"transfer_run": PATH}, {"checkpoint": PATH}.
    enum Key: CodingKey { case transferRun, pruning, checkpoint }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let m = try c.decodeIfPresent(PruningMethod.self, forKey: .pruning) {
            self = .pruning(m)
        } else if let p = try c.decodeIfPresent(String.self, forKey: .transferRun) {
            self = .transferRun(p)
        } else if let p = try c.decodeIfPresent(String.self, forKey: .checkpoint) {
            self = .checkpoint(p)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "no initialisation"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .transferRun(let p): try c.encode(p, forKey: .transferRun)
        case .pruning(let m): try c.encode(m, forKey: .pruning)
        case .checkpoint(let p): try c.encode(p, forKey: .checkpoint)
        }
    }
}
