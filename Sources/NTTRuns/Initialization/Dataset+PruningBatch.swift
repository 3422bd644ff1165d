import NeuralTangentTransfer

extension Dataset {
    /// The labelled examples data-dependent pruning methods score on (SPEC §3): the first 100
    /// training examples, 128 for CIFAR, prepared for `model`.
    public func pruningBatch(for model: Model) -> (images: Tensor, labels: [Int]) {
        let count = min(name.hasPrefix("cifar") ? 128 : 100, train.count)
        let (images, labels) = train.batch(Array(0..<count))
        return (model.prepare(images), labels)
    }
}

extension Dataset {
    /// Training with labels needs an output per class (a label k needs a logit k).
    public func checkLabelled(by model: Model) throws {
        guard model.outputCount >= classes else {
            throw NTTError("--model \(model.spec) has \(model.outputCount) outputs but \(name) has \(classes) classes; "
                           + "end the model with dense(\(classes))")
        }
    }
}
