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
