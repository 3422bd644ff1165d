import Foundation
import NTTLayers

/// The files of a run folder.
struct RunFiles {
    let directory: URL
    var config: URL { directory.appendingPathComponent("config.json") }
    var metrics: URL { directory.appendingPathComponent("metrics.jsonl") }
    var student: URL { directory.appendingPathComponent("student.safetensors") }
    var teacher: URL { directory.appendingPathComponent("teacher.safetensors") }
    var probe: URL { directory.appendingPathComponent("probe.safetensors") }
    var checkpoint: URL { directory.appendingPathComponent("checkpoint.safetensors") }
}

/// SPEC §5 tensor names for the i-th parametrised layer.
public enum TensorNames {
    public static func weight(_ i: Int) -> String { "layers.\(i).weight" }
    public static func bias(_ i: Int) -> String { "layers.\(i).bias" }
    public static func mask(_ i: Int) -> String { "layers.\(i).mask" }
}

extension TransferRun {
    /// Metadata stored in every safetensors header of the run.
    var metadata: [String: String] {
        ["model": model.spec.description, "input_shape": model.inputShape.map(String.init).joined(separator: ","),
         "density": String(config.density), "seed": String(config.seed), "tool": "ntt \(NTTVersion.current)",
         "kernel_scope": config.kernelScope.rawValue]
    }

    func writeConfig(_ files: RunFiles) throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        object["resolved_model"] = model.spec.description
        object["lambda_l2_effective"] = Double(config.effectiveLambdaL2(for: model))
        object["total_iterations"] = totalIterations
        object["tool_version"] = NTTVersion.current
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: files.config.path)
    }

    func initialMasks(_ teacher: [LayerParameters]) throws -> [Tensor] {
        switch config.initialMask {
        case .magnitude:
            return MagnitudePruner.masks(weights: teacher.map(\.weight), density: config.density, scope: config.prune)
        case .logitSnip:
            // SPEC §2: scores on 128 training inputs.
            let count = min(128, data.count)
            let x = model.prepare(data.batch(Array(0..<count)).images)
            return LogitSnipPruner.masks(model: model, parameters: teacher, inputs: x, density: config.density, scope: config.prune)
        }
    }

    func saveCheckpoint(_ s: State, _ files: RunFiles) throws {
        var tensors: [(name: String, tensor: Tensor)] = []
        for i in s.weights.indices {
            tensors.append((TensorNames.weight(i), s.weights[i]))
            tensors.append((TensorNames.bias(i), s.biases[i]))
            tensors.append((TensorNames.mask(i), s.masks[i]))
        }
        let shapes = s.weights.map(\.shape) + s.biases.map(\.shape)
        for (t, shape) in shapes.enumerated() where !s.adam.m.isEmpty {
            tensors.append(("adam.m.\(t)", Tensor(shape: shape, scalars: s.adam.m[t])))
            tensors.append(("adam.v.\(t)", Tensor(shape: shape, scalars: s.adam.v[t])))
        }
        let order = String(decoding: try JSONEncoder().encode(s.order), as: UTF8.self)
        var meta = metadata
        meta["iteration"] = String(s.iteration)
        meta["adam_step"] = String(s.adam.step)
        meta["batch_order"] = order
        meta["metrics_bytes"] = String(s.metricsBytes)
        meta["config"] = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try SafeTensors.write(tensors, metadata: meta, to: files.checkpoint.path)
    }

    func loadCheckpoint(_ files: RunFiles) throws -> State {
        guard FileManager.default.fileExists(atPath: files.checkpoint.path) else {
            if FileManager.default.fileExists(atPath: files.student.path) {
                throw NTTError("\(directory.path): the run has already finished (student.safetensors exists); nothing to resume")
            }
            throw NTTError("\(files.checkpoint.path): no checkpoint to resume from")
        }
        let file = try SafeTensors.read(files.checkpoint.path)
        let meta = file.metadata
        guard let savedConfig = meta["config"].flatMap({ try? JSONDecoder().decode(TransferConfig.self, from: Data($0.utf8)) }) else {
            throw NTTError("\(files.checkpoint.path): the checkpoint has no readable run settings")
        }
        guard savedConfig == config else {
            throw NTTError("\(files.checkpoint.path): the checkpoint was written with other settings; resume with the same flags as the original run (see config.json)")
        }
        guard let iteration = meta["iteration"].flatMap(Int.init), let step = meta["adam_step"].flatMap(Int.init),
              let metricsBytes = meta["metrics_bytes"].flatMap(Int.init),
              let order = meta["batch_order"].flatMap({ try? JSONDecoder().decode(BatchOrder.self, from: Data($0.utf8)) }) else {
            throw NTTError("\(files.checkpoint.path): the checkpoint's state metadata is missing or corrupt")
        }
        let shapes = model.parameterShapes
        var expected: [(name: String, shape: [Int])] = []
        for (i, s) in shapes.enumerated() {
            expected += [(TensorNames.weight(i), s.weight), (TensorNames.bias(i), s.bias), (TensorNames.mask(i), s.weight)]
        }
        let all = shapes.map(\.weight) + shapes.map(\.bias)
        if step > 0 { for (t, s) in all.enumerated() { expected += [("adam.m.\(t)", s), ("adam.v.\(t)", s)] } }
        try file.checkMatches(expected: expected)
        func tensor(_ name: String) -> Tensor { file.tensors[name]! }
        var adam = Adam(learningRate: config.learningRate)
        if step > 0 {
            adam.restore(step: step, m: all.indices.map { tensor("adam.m.\($0)").scalars },
                         v: all.indices.map { tensor("adam.v.\($0)").scalars })
        }
        return State(iteration: iteration,
                     weights: shapes.indices.map { tensor(TensorNames.weight($0)) },
                     biases: shapes.indices.map { tensor(TensorNames.bias($0)) },
                     masks: shapes.indices.map { tensor(TensorNames.mask($0)) },
                     adam: adam, order: order, metricsBytes: metricsBytes)
    }

    func writeResults(_ s: State, teacher: [LayerParameters], _ files: RunFiles) throws {
        var student: [(name: String, tensor: Tensor)] = []
        for i in s.weights.indices {
            student.append((TensorNames.weight(i), withoutDerivatives { s.weights[i] * s.masks[i] }))
            student.append((TensorNames.bias(i), s.biases[i]))
            student.append((TensorNames.mask(i), s.masks[i]))
        }
        var teacherTensors: [(name: String, tensor: Tensor)] = []
        for (i, p) in teacher.enumerated() {
            teacherTensors.append((TensorNames.weight(i), p.weight))
            teacherTensors.append((TensorNames.bias(i), p.bias))
        }
        var meta = metadata
        meta["iteration"] = String(s.iteration)
        try SafeTensors.write(teacherTensors, metadata: meta.merging(["role": "teacher"]) { $1 }, to: files.teacher.path)
        try SafeTensors.write([("x", probe)], metadata: meta.merging(["role": "probe"]) { $1 }, to: files.probe.path)
        // The student goes last: its presence marks a finished run.
        try SafeTensors.write(student, metadata: meta.merging(["role": "student"]) { $1 }, to: files.student.path)
    }
}

/// The tool's version, recorded in every output.
public enum NTTVersion {
    public static let current = "0.1.0"
}
