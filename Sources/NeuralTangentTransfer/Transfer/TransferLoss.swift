import NTTLayers

/// The NTT objective (SPEC §2) on one batch split into halves x₁, x₂:
///
///     L = λ_K · Σ(Θ_s − Θ_t)² / |Θ|  +  Σ(f_s(x) − f_t(x))² / |f|
///         +  (λ₂ / d) · Σ_l ‖w_l ⊙ m_l‖²
///
/// Θ_s, Θ_t: student and teacher NTKs between x₁ and x₂ ([n₁, n₂, k, k]); f: outputs on the whole
/// batch; d: density; the L2 term covers weights, not biases. Differentiable in the student's raw
/// weights (through the mask: pruned entries get zero gradient) and biases.
public struct TransferLoss: Sendable, Codable, Equatable {
    public var lambdaKernel: Float
    public var lambdaL2: Float
    public var density: Float
    public var scope: KernelScope

    public init(lambdaKernel: Float = 1e-3, lambdaL2: Float, density: Float, scope: KernelScope = .effective) {
        self.lambdaKernel = lambdaKernel; self.lambdaL2 = lambdaL2; self.density = density; self.scope = scope
    }

    /// What the student is compared with: the teacher's kernel and outputs on the same batch.
    public struct Targets: Sendable {
        public var kernel: Tensor
        /// Outputs on x₁ then x₂, [n₁ + n₂, k].
        public var outputs: Tensor
        public init(kernel: Tensor, outputs: Tensor) { self.kernel = kernel; self.outputs = outputs }

        /// The dense teacher's targets (computed without derivatives).
        public static func teacher(model: Model, parameters: [LayerParameters], x1: Tensor, x2: Tensor) -> Targets {
            withoutDerivatives {
                let r = EmpiricalNTK.compute(model: model, parameters: parameters, masks: nil, x1: x1, x2: x2)
                return Targets(kernel: r.kernel, outputs: Tensor.concatenate(rows: [r.outputs1, r.outputs2]))
            }
        }
    }

    /// Where a step's targets come from: computed beforehand, or the teacher's on the step's
    /// batch, computed during the step (for a small model with a budget of two threads, beside
    /// the student's kernel: `EmpiricalNTK.sideBySide`, `Threads.overlapping`). The same numbers
    /// either way.
    public enum TargetSource: Sendable {
        case given(Targets)
        /// The dense teacher's parameters.
        case teacher([LayerParameters])
    }

    /// The loss and its three parts (tracked tensors when the parameters are).
    public struct Terms: Sendable {
        public var total: Tensor
        public var ntkDistance: Tensor
        public var targetDistance: Tensor
        public var l2: Tensor
    }

    /// The loss with masks `masks`, listed for this call (`IndexedMasks`; a loop passes them
    /// listed once per mask update instead).
    public func evaluate(model: Model, parameters: [LayerParameters], masks: [Tensor],
                         x1: Tensor, x2: Tensor, targets: Targets) -> Terms {
        evaluate(model: model, parameters: parameters, masks: IndexedMasks(model: model, masks: masks),
                 x1: x1, x2: x2, targets: targets)
    }

    /// The loss with masks listed beforehand.
    public func evaluate(model: Model, parameters: [LayerParameters], masks: IndexedMasks,
                         x1: Tensor, x2: Tensor, targets: Targets) -> Terms {
        // w ⊙ m once, for the kernel and the penalty.
        evaluate(model: model, effectiveWeights: Model.effectiveWeights(parameters, masks: masks.tensors),
                 parameters: parameters, masks: masks, x1: x1, x2: x2, targets: .given(targets))
    }

    /// The loss at effective weights `weights` = w ⊙ m; `parameters` give the biases, `masks`
    /// the sparse products' lists and the surviving kernel scope.
    func evaluate(model: Model, effectiveWeights weights: [Tensor], parameters: [LayerParameters],
                  masks: IndexedMasks, x1: Tensor, x2: Tensor, targets source: TargetSource) -> Terms {
        func studentKernel() -> EmpiricalNTK.Result {
            EmpiricalNTK.compute(model: model, parameters: parameters, masks: masks,
                                 x1: x1, x2: x2, scope: scope, effectiveWeights: weights)
        }
        let (student, targets): (EmpiricalNTK.Result, Targets)
        switch source {
        case .given(let t):
            (student, targets) = (studentKernel(), t)
        case .teacher(let teacher):
            // With two threads and a small model, the teacher's kernel on a helper while the
            // student's is recorded here.
            func teacherTargets() -> Targets { Targets.teacher(model: model, parameters: teacher, x1: x1, x2: x2) }
            if EmpiricalNTK.sideBySide(model, samples: 2 * (x1.shape[0] + x2.shape[0])) {
                (student, targets) = Threads.overlapping(studentKernel, teacherTargets)
            } else {
                // The teacher's first: its intermediate results are gone before the student's
                // recorded pass builds up.
                targets = teacherTargets()
                student = studentKernel()
            }
        }
        let outputs = Tensor.concatenate(rows: [student.outputs1, student.outputs2])
        func meanSquare(_ d: Tensor) -> Tensor { d.sumOfSquares() * (1 / Float(d.count)) }
        let ntkDistance = meanSquare(student.kernel - targets.kernel)
        let targetDistance = meanSquare(outputs - targets.outputs)
        let l2 = weights.map { $0.sumOfSquares() }.reduce(Tensor(0), +)
        let total = lambdaKernel * ntkDistance + targetDistance + (lambdaL2 / density) * l2
        return Terms(total: total, ntkDistance: ntkDistance, targetDistance: targetDistance, l2: l2)
    }

    /// The loss terms and the gradient w.r.t. each layer's raw weight and bias, with masks
    /// `masks` listed for this call (`IndexedMasks`; a loop passes them listed once per mask
    /// update instead).
    ///
    /// - Parameter straightThrough: the weights' gradient is ∂L/∂(w ⊙ m), the effective weights
    ///   taken as the variables, so pruned entries get the gradient they would have unmasked
    ///   (`PrunedUpdates.dense`); otherwise ∂L/∂w = m ⊙ ∂L/∂(w ⊙ m), zero where pruned.
    public func valueAndGradient(model: Model, parameters: [LayerParameters], masks: [Tensor],
                                 x1: Tensor, x2: Tensor, targets: Targets, straightThrough: Bool = false)
        -> (terms: Terms, gradient: [LayerParameters]) {
        valueAndGradient(model: model, parameters: parameters, masks: IndexedMasks(model: model, masks: masks),
                         x1: x1, x2: x2, targets: targets, straightThrough: straightThrough)
    }

    /// The loss terms and the gradient w.r.t. each layer's raw weight and bias, with masks
    /// listed beforehand (`straightThrough` as above).
    public func valueAndGradient(model: Model, parameters: [LayerParameters], masks: IndexedMasks,
                                 x1: Tensor, x2: Tensor, targets: Targets, straightThrough: Bool = false)
        -> (terms: Terms, gradient: [LayerParameters]) {
        valueAndGradient(model: model, parameters: parameters, masks: masks, x1: x1, x2: x2,
                         targets: .given(targets), straightThrough: straightThrough)
    }

    /// The loss terms and the gradient, with masks listed beforehand and the targets given or
    /// computed from the teacher during the step (`straightThrough` as above).
    public func valueAndGradient(model: Model, parameters: [LayerParameters], masks: IndexedMasks,
                                 x1: Tensor, x2: Tensor, targets: TargetSource, straightThrough: Bool = false)
        -> (terms: Terms, gradient: [LayerParameters]) {
        let start = !straightThrough ? parameters
            : [LayerParameters](weights: Model.effectiveWeights(parameters, masks: masks.tensors),
                                biases: parameters.map(\.bias))
        // Straight-through, the variables are w ⊙ m and every product takes them densely: sparse
        // products would give their pruned entries no gradient.
        let products = straightThrough ? masks.unlisted : masks
        let (_, terms, grads) = NTTAutodiff.valueAndGradient(at: start.flattened, ofValueAndAux: { v in
            let p = [LayerParameters](unflattening: v)
            // w ⊙ m once, for the kernel and the penalty (the variables themselves when straight-through).
            let weights = straightThrough ? p.map(\.weight) : Model.effectiveWeights(p, masks: masks.tensors)
            let t = evaluate(model: model, effectiveWeights: weights, parameters: p, masks: products,
                             x1: x1, x2: x2, targets: targets)
            return (t.total, t)
        })
        return (terms, [LayerParameters](unflattening: grads))
    }
}

extension TransferLoss.Terms: Detachable {
    public var detached: TransferLoss.Terms {
        TransferLoss.Terms(total: total.detached, ntkDistance: ntkDistance.detached,
                           targetDistance: targetDistance.detached, l2: l2.detached)
    }
}
