import Foundation
import NTTLayers

/// Parameters and masks of a model stored under the SPEC §5 names.
public struct ModelCheckpoint: Sendable {
    public var parameters: [LayerParameters]
    /// Nil when the file has no masks (a dense model).
    public var masks: [Tensor]?
    public var metadata: [String: String]

    /// Loads `path` and checks every name and shape against `model`; masks must be 0/1.
    public static func load(_ path: String, model: Model) throws -> ModelCheckpoint {
        let file = try SafeTensors.read(path)
        let shapes = model.parameterShapes
        let hasMasks = file.tensors[TensorNames.mask(0)] != nil
        var expected: [(name: String, shape: [Int])] = []
        for (i, s) in shapes.enumerated() {
            expected += [(TensorNames.weight(i), s.weight), (TensorNames.bias(i), s.bias)]
            if hasMasks { expected.append((TensorNames.mask(i), s.weight)) }
        }
        try file.checkMatches(expected: expected)
        let masks = hasMasks ? shapes.indices.map { file.tensors[TensorNames.mask($0)]! } : nil
        if let masks, let bad = masks.firstIndex(where: { !$0.scalars.allSatisfy { $0 == 0 || $0 == 1 } }) {
            throw NTTError("\(path): \(TensorNames.mask(bad)) has values other than 0 and 1")
        }
        for name in file.names where !file.tensors[name]!.scalars.allSatisfy(\.isFinite) {
            throw NTTError("\(path): tensor \(name) contains NaN or infinite values")
        }
        return ModelCheckpoint(parameters: shapes.indices.map {
            LayerParameters(weight: file.tensors[TensorNames.weight($0)]!, bias: file.tensors[TensorNames.bias($0)]!)
        }, masks: masks, metadata: file.metadata)
    }

    /// The model spec recorded in a checkpoint's metadata, if any; a file that cannot be read
    /// is an error (naming the file), not a file without a model.
    public static func recordedModel(_ path: String) throws -> String? {
        try SafeTensors.read(path).metadata["model"]
    }
}
