import Foundation
import NeuralTangentTransfer

extension TransferRun {
    /// Metadata stored in every safetensors header of the run.
    var metadata: [String: String] {
        ["model": model.spec.description, "input_shape": model.inputShape.map(String.init).joined(separator: ","),
         "density": String(config.density), "seed": String(config.seed), "tool": "ntt \(NTTVersion.current)",
         "kernel_scope": config.kernelScope.rawValue]
    }

    /// Saves `s`, which took `seconds` of computing from the start of the run.
    func saveCheckpoint(_ s: State, seconds: Double) throws {
        var tensors: [(name: String, tensor: Tensor)] = []
        for i in s.weights.indices {
            tensors.append((TensorNames.weight(i), s.weights[i]))
            tensors.append((TensorNames.bias(i), s.biases[i]))
            tensors.append((TensorNames.mask(i), s.masks.tensors[i]))
        }
        let shapes = s.weights.map(\.shape) + s.biases.map(\.shape)
        for (t, shape) in shapes.enumerated() where !s.adam.m.isEmpty {
            tensors.append(("adam.m.\(t)", Tensor(shape: shape, scalars: s.adam.m[t])))
            tensors.append(("adam.v.\(t)", Tensor(shape: shape, scalars: s.adam.v[t])))
        }
        var meta = metadata
        meta["iteration"] = String(s.iteration)
        meta["adam_step"] = String(s.adam.step)
        meta["batch_order"] = try RunJSON.string(s.order)
        meta["metrics_bytes"] = String(s.metricsBytes)
        meta["seconds"] = String(seconds)
        meta["config"] = try RunJSON.string(config)
        try folder.writeTensors(tensors, metadata: meta, to: Self.checkpointName)
    }

    /// The saved state, or nil when the run was stopped before its first checkpoint (killed
    /// early): then it starts again from iteration 0, provided its config.json has the same settings.
    func loadCheckpoint() throws -> State? {
        let path = folder.file(Self.checkpointName).path
        guard folder.contains(Self.checkpointName) else {
            if folder.contains(Self.studentName) {
                throw NTTError("\(folder.path): the run has already finished (student.safetensors exists); "
                               + "nothing to resume")
            }
            guard folder.contains(RunFolder.configName) else {
                throw NTTError("\(folder.path): no checkpoint and no config.json; not a transfer run to resume")
            }
            let saved = try folder.readJSON(TransferConfig.self, from: RunFolder.configName,
                                            what: "a transfer's config")
            guard saved == config else {
                throw NTTError("\(folder.file(RunFolder.configName).path): the run was started with other settings; "
                               + "resume with the same flags as the original run")
            }
            return nil
        }
        let file = try SafeTensors.read(path)
        let meta = file.metadata
        let decoder = RunJSON.decoder
        guard let savedConfig = meta["config"].flatMap({
            try? decoder.decode(TransferConfig.self, from: Data($0.utf8))
        }) else {
            throw NTTError("\(path): the checkpoint has no readable run settings")
        }
        guard savedConfig == config else {
            throw NTTError("\(path): the checkpoint was written with other settings; resume with the same flags as the "
                           + "original run (see config.json)")
        }
        guard let iteration = meta["iteration"].flatMap(Int.init), let step = meta["adam_step"].flatMap(Int.init),
              let metricsBytes = meta["metrics_bytes"].flatMap(Int.init),
              let order = meta["batch_order"].flatMap({
                  try? decoder.decode(BatchOrder.self, from: Data($0.utf8))
              }) else {
            throw NTTError("\(path): the checkpoint's state metadata is missing or corrupt")
        }
        guard iteration >= 0 && iteration < totalIterations, step >= 0, metricsBytes >= 0 else {
            throw NTTError("\(path): the checkpoint's iteration \(iteration) (Adam step \(step), metrics bytes "
                           + "\(metricsBytes)) does not fit a run of \(totalIterations) iterations")
        }
        let metricsPath = folder.file(RunFolder.metricsName).path
        let metricsSize = (try? FileManager.default.attributesOfItem(atPath: metricsPath))?[.size] as? Int ?? 0
        guard metricsBytes <= metricsSize else {
            throw NTTError("\(path): the checkpoint expects \(metricsBytes) bytes of metrics.jsonl, "
                           + "which has \(metricsSize)")
        }
        let shapes = model.parameterShapes
        var expected: [(name: String, shape: [Int])] = []
        for (i, s) in shapes.enumerated() {
            expected += [(TensorNames.weight(i), s.weight), (TensorNames.bias(i), s.bias),
                         (TensorNames.mask(i), s.weight)]
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
                     masks: IndexedMasks(model: model, masks: shapes.indices.map { tensor(TensorNames.mask($0)) }),
                     adam: adam, sgd: MomentumSGD(learningRate: config.learningRate, momentum: 0),
                     order: order, metricsBytes: metricsBytes,
                     // Checkpoints of earlier versions lack it: their time before the stop is not counted.
                     secondsBefore: meta["seconds"].flatMap(Double.init)
                        .flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } ?? 0)
    }

    func writeResults(_ s: State, teacher: [LayerParameters]) throws {
        var meta = metadata
        meta["iteration"] = String(s.iteration)
        try folder.writeModel(teacher, masks: nil, metadata: meta.merging(["role": "teacher"]) { $1 },
                              to: Self.teacherName)
        try folder.writeTensors([("x", probe)], metadata: meta.merging(["role": "probe"]) { $1 }, to: Self.probeName)
        // The student goes last: its presence marks a finished run.
        try folder.writeModel(s.parameters, masks: s.masks.tensors, metadata: meta.merging(["role": "student"]) { $1 },
                              to: Self.studentName)
    }
}
