import Foundation
import NTTLayers

extension SparseInitialization {
    /// The checkpoint a folder holds: a transfer run's `student.safetensors` or a prune run's
    /// `init.safetensors`; a file path is returned as is.
    public static func checkpointPath(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return path }
        for name in ["student.safetensors", "init.safetensors", "model.safetensors"] {
            let candidate = (path as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return (path as NSString).appendingPathComponent("student.safetensors")
    }

    /// Loads a sparse initialisation from a run folder or checkpoint, checked against `model`.
    public static func load(_ path: String, model: Model) throws -> SparseInitialization {
        let file = checkpointPath(path)
        guard FileManager.default.fileExists(atPath: file) else {
            throw NTTError("--init \(path): no student.safetensors or init.safetensors there (is the transfer finished?)")
        }
        let c = try ModelCheckpoint.load(file, model: model)
        return SparseInitialization(parameters: c.parameters,
                                    masks: c.masks ?? model.parameterShapes.map { Tensor.ones($0.weight) })
    }

    /// Writes parameters (masked weights), biases and masks under SPEC §5 names.
    public func write(to path: String, metadata: [String: String]) throws {
        var tensors: [(name: String, tensor: Tensor)] = []
        for (i, (p, m)) in zip(parameters, masks).enumerated() {
            tensors += [(TensorNames.weight(i), withoutDerivatives { p.weight * m }), (TensorNames.bias(i), p.bias), (TensorNames.mask(i), m)]
        }
        try SafeTensors.write(tensors, metadata: metadata, to: path)
    }
}
