import NTTLayers

/// One supervised update: the cross-entropy of the masked model and its gradient on the tape,
/// then one fused optimiser pass that adds the gradient of the L2 penalty λ‖w ⊙ m‖² (weights
/// only) and applies the update. Shared by `Trainer` and `ntt bench`.
///
/// Contract: masks are 0/1 and the weights passed in are already masked (w = w ⊙ m), as
/// `Trainer` ensures. Then ‖w ⊙ m‖² = ‖w‖² with gradient 2λw, and a pruned weight gets an exactly
/// zero gradient (m = 0 in the chain rule, w = 0 in the penalty), so the optimiser's state stays
/// zero there and the weight stays exactly 0 without re-masking.
public struct TrainingStep {
    public let model: Model
    public let weightDecay: Float
    public let optimizer: TrainConfig.OptimizerKind
    var adam: Adam
    var sgd: MomentumSGD

    public init(model: Model, weightDecay: Float, optimizer: TrainConfig.OptimizerKind = .adam,
                learningRate: Float, momentum: Float = 0.9) {
        self.model = model; self.weightDecay = weightDecay; self.optimizer = optimizer
        adam = Adam(learningRate: learningRate)
        sgd = MomentumSGD(learningRate: learningRate, momentum: momentum)
    }

    /// Updates `parameters` in place and returns the loss (cross-entropy + penalty) before the update.
    public mutating func callAsFunction(_ parameters: inout [LayerParameters], masks: [Tensor],
                                        x: Tensor, labels: Tensor,
                                        learningRate: Float? = nil, dropoutSeed: UInt64? = nil) -> Float {
        self(&parameters, masks: IndexedMasks(model: model, masks: masks), x: x, labels: labels,
             learningRate: learningRate, dropoutSeed: dropoutSeed)
    }

    /// The step with masks listed beforehand (`IndexedMasks`, once per training: its masks are
    /// fixed): the layers whose masks keep few weights skip the pruned ones in the forward pass
    /// and both gradients (`Model.apply(_:masks:to:)` with listed masks).
    public mutating func callAsFunction(_ parameters: inout [LayerParameters], masks: IndexedMasks,
                                        x: Tensor, labels: Tensor,
                                        learningRate: Float? = nil, dropoutSeed: UInt64? = nil) -> Float {
        let layers = parameters.count
        let (crossEntropy, grads) = Self.crossEntropyGradient(model: model, parameters: parameters, masks: masks,
                                                              x: x, labels: labels, dropoutSeed: dropoutSeed)
        var tensors = parameters.flattened
        parameters = []  // the optimiser then updates the only copy of each array in place
        let penalties = [Float](repeating: weightDecay, count: layers) + [Float](repeating: 0, count: layers)
        let penalty: Float
        switch optimizer {
        case .adam:
            if let learningRate { adam.learningRate = learningRate }
            penalty = adam.update(&tensors, gradients: grads, penalties: penalties)
        case .sgd:
            if let learningRate { sgd.learningRate = learningRate }
            penalty = sgd.update(&tensors, gradients: grads, penalties: penalties)
        }
        parameters = [LayerParameters](unflattening: tensors)
        return crossEntropy + penalty
    }

    /// Cross-entropy of the masked model on one batch and its gradient w.r.t. [weights…, biases…].
    /// A function of its own so the tape is released before the optimiser runs.
    static func crossEntropyGradient(model: Model, parameters: [LayerParameters], masks: IndexedMasks, x: Tensor,
                                     labels: Tensor, dropoutSeed: UInt64?) -> (Float, [Tensor]) {
        let (value, grads) = valueAndGradient(at: parameters.flattened) { v in
            let p = [LayerParameters](unflattening: v)
            return Tensor.softmaxCrossEntropy(logits: model.apply(p, masks: masks, to: x, dropoutSeed: dropoutSeed),
                                              labels: labels)
        }
        return (value.scalar, grads)
    }
}
