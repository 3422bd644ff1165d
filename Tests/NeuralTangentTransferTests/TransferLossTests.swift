import Testing
import NTTKernels
@testable import NeuralTangentTransfer

/// The transfer loss gradient (which differentiates through the structured NTK) against central
/// finite differences of the loss itself.
struct TransferLossTests {
    @Test(arguments: [0, 1])
    func gradientMatchesFiniteDifferences(specIndex: Int) throws {
        let (text, inputShape) = EmpiricalNTKTests.specs[specIndex]
        let model = try Model(spec: ModelSpec(parsing: text), inputShape: inputShape)
        Self.checkGradient(model, masks: EmpiricalNTKTests.randomMasks(model, seed: 4, keep: 0.6), density: 0.6)
    }

    /// At low density the student's Δ are zero outside a few columns per output, and the Gram of
    /// its dense layers' Δ takes the sparse products (`groupedGram`), with their own pullbacks:
    /// the gradient at kept weights and at biases against central differences.
    @Test func sparseGradientMatchesFiniteDifferences() throws {
        let (text, inputShape) = Self.sparseSpecs[0]
        let model = try Model(spec: ModelSpec(parsing: text), inputShape: inputShape)
        let masks = EmpiricalNTKTests.randomMasks(model, seed: 4, keep: 0.05)
        // The first two layers' Δ Grams do take the sparse products.
        let student = model.tracedParameters(model.initialize(seed: 12),
                                             masks: IndexedMasks(model: model, masks: masks))
        let x = EmpiricalNTKTests.randomInputs(model, count: 2, seed: 8)
        let deltas = EmpiricalNTK.cotangents(model.tracedApply(student, to: x).1, samples: 2, outputs: 3)
        #expect(deltas.prefix(2).allSatisfy { Tensor.groupedGramSupports($0.delta, $0.delta, groups: 3) != nil })
        Self.checkGradient(model, masks: masks, density: 0.05, keptWeightsOnly: true)
    }

    /// The transfer loss's gradient at 4 random entries of every weight (kept ones only with
    /// `keptWeightsOnly`) and bias against central differences of the loss.
    static func checkGradient(_ model: Model, masks: [Tensor], density: Float, keptWeightsOnly: Bool = false) {
        let teacher = model.initialize(seed: 11)
        let student = model.initialize(seed: 12)
        let x = EmpiricalNTKTests.randomInputs(model, count: 4, seed: 8)
        let x1 = x.slice(rows: 0..<2), x2 = x.slice(rows: 2..<4)
        let loss = TransferLoss(lambdaKernel: 0.5, lambdaL2: 0.01, density: density)
        let targets = TransferLoss.Targets.teacher(model: model, parameters: teacher, x1: x1, x2: x2)
        let (terms, grad) = loss.valueAndGradient(model: model, parameters: student, masks: masks,
                                                  x1: x1, x2: x2, targets: targets)
        func lossAt(_ p: [LayerParameters]) -> Double {
            Double(withoutDerivatives {
                loss.evaluate(model: model, parameters: p, masks: masks, x1: x1, x2: x2, targets: targets).total.scalar
            })
        }
        #expect(abs(Double(terms.total.scalar) - lossAt(student)) < 1e-6 * max(1, lossAt(student)))
        // Float32 central differences with h = 3e-3: the rounding error is ~1e-7·L/h (≈ 4e-3 for
        // L ≈ 100) and the truncation error ~h²·L''' is small once kinks are excluded, so we allow
        // 2% relative plus an absolute tolerance of a few rounding errors.
        // The NTK jumps where a ReLU or max-pool decision flips, so a difference quotient whose
        // stencil straddles such a point is meaningless: those coordinates are recognised by
        // disagreement between two step sizes and skipped (most must remain). That test allows a
        // quarter of the absolute tolerance (still a few rounding errors of the finer quotient): a
        // ReLU switching on within the stencil gives quotients that differ by about half their
        // size, which the full tolerance can miss when they are small (seen on a sparse student:
        // −0.012 against an analytic 0, a unit whose input sat 1e-3 below zero).
        var rng = SeededRandom(seed: 1, stream: "fd")
        var checked = 0, skipped = 0
        let absoluteTolerance = 1e-4 * (1 + Double(terms.total.scalar))  // ≈ 3 Float32 ulps of L / h
        for layer in 0..<student.count {
            for isBias in [false, true] {
                let tensor = isBias ? student[layer].bias : student[layer].weight
                let candidates = (0..<tensor.count).filter {
                    isBias || !keptWeightsOnly || masks[layer].scalars[$0] != 0
                }
                for _ in 0..<4 where !candidates.isEmpty {
                    let idx = candidates[rng.nextInt(below: candidates.count)]
                    func perturbed(_ delta: Float) -> [LayerParameters] {
                        var p = student
                        var values = tensor.scalars
                        values[idx] += delta
                        let t = Tensor(shape: tensor.shape, scalars: values)
                        if isBias { p[layer].bias = t } else { p[layer].weight = t }
                        return p
                    }
                    func quotient(_ h: Float) -> Double {
                        (lossAt(perturbed(h)) - lossAt(perturbed(-h))) / (2 * Double(h))
                    }
                    let numeric = quotient(3e-3), finer = quotient(1.5e-3)
                    if abs(numeric - finer) > 0.01 * abs(numeric) + absoluteTolerance / 4 { skipped += 1; continue }
                    checked += 1
                    let analytic = Double((isBias ? grad[layer].bias : grad[layer].weight).scalars[idx])
                    let entry = "layer \(layer) \(isBias ? "bias" : "weight")[\(idx)]"
                    #expect(abs(numeric - analytic) <= 0.02 * abs(numeric) + absoluteTolerance,
                            "\(entry): analytic \(analytic) vs numeric \(numeric)")
                    if !isBias && masks[layer].scalars[idx] == 0 { #expect(analytic == 0) }
                }
            }
        }
        #expect(checked >= 3 * (checked + skipped) / 4, "too many kinks: \(skipped) of \(checked + skipped) skipped")
    }

    /// Models whose layers all multiply sparsely at low density: an MLP and two CNNs (conv layers
    /// with stride and padding, both poolings; stride-1 convs with same and valid padding on a
    /// non-square image, which take the plane form).
    static let sparseSpecs: [(String, [Int])] = [
        ("dense(40),relu,dense(30),relu,dense(3)", [50]),
        ("conv(12,3),relu,maxpool(2),conv(16,3,stride=2,padding=same),relu,avgpool(2,stride=1),flatten,dense(3)",
         [11, 11, 3]),
        ("conv(10,3,padding=same),relu,maxpool(2),conv(12,2),relu,flatten,dense(3)", [10, 9, 2]),
    ]

    /// At low density the student's dense and conv layers multiply sparsely; the loss and its
    /// gradient equal those of the dense products, which the same step takes when the masks are
    /// tracked. Straight-through, the gradient is ∂L/∂(w ⊙ m) also at pruned entries, which the
    /// sparse products (zero there) must not cut off.
    @Test(arguments: sparseSpecs.indices, [false, true])
    func sparseStudentMatchesDenseProducts(specIndex: Int, straightThrough: Bool) throws {
        let (text, inputShape) = Self.sparseSpecs[specIndex]
        let model = try Model(spec: ModelSpec(parsing: text), inputShape: inputShape)
        let (student, masks) = (model.initialize(seed: 2), EmpiricalNTKTests.randomMasks(model, seed: 6, keep: 0.02))
        let x1 = EmpiricalNTKTests.randomInputs(model, count: 4, seed: 3)
        let x2 = EmpiricalNTKTests.randomInputs(model, count: 4, seed: 4)
        let targets = TransferLoss.Targets.teacher(model: model, parameters: model.initialize(seed: 1), x1: x1, x2: x2)
        let loss = TransferLoss(lambdaKernel: 0.5, lambdaL2: 0.01, density: 0.03)
        #expect(IndexedMasks(model: model, masks: masks).patterns.allSatisfy { $0 != nil })
        let (sparse, grads) = loss.valueAndGradient(model: model, parameters: student, masks: masks,
                                                    x1: x1, x2: x2, targets: targets, straightThrough: straightThrough)
        // The plain loss: tracked masks are never listed, so every product is dense.
        let start = !straightThrough ? student
            : [LayerParameters](weights: Model.effectiveWeights(student, masks: masks), biases: student.map(\.bias))
        let count = start.flattened.count
        let (dense, _, denseGrads) = valueAndGradient(at: start.flattened + masks, ofValueAndAux: { v in
            let p = [LayerParameters](unflattening: Array(v[..<count])), m = Array(v[count...])
            let t = loss.evaluate(model: model,
                                  effectiveWeights: straightThrough ? p.map(\.weight) : Model.effectiveWeights(p, masks: m),
                                  parameters: p, masks: IndexedMasks(model: model, masks: m), x1: x1, x2: x2,
                                  targets: .given(targets))
            return (t.total, t.ntkDistance)
        })
        #expect(abs(sparse.total.scalar - dense.scalar) <= 1e-5 * abs(dense.scalar))
        for (a, b) in zip(grads.flattened, denseGrads) {
            #expect(EmpiricalNTKTests.maxRelativeError(a, b) < 1e-5)
        }
        if straightThrough {
            let pruned = zip(grads.map(\.weight), masks).flatMap { g, m in zip(g.scalars, m.scalars).filter { $1 == 0 } }
            #expect(pruned.contains { $0.0 != 0 }, "straight-through: no pruned weight has a gradient")
        }
    }

    /// Masks listed beforehand (as the transfer loop lists them once per mask update) give the
    /// same bits as masks listed by each call: loss terms and gradients, in each gradient mode.
    @Test(arguments: [false, true])
    func listedMasksGiveTheSameLossAndGradient(straightThrough: Bool) throws {
        let model = try Model(spec: ModelSpec(parsing: "dense(40),relu,dense(30),relu,dense(3)"), inputShape: [50])
        let (student, masks) = (model.initialize(seed: 2), EmpiricalNTKTests.randomMasks(model, seed: 6, keep: 0.02))
        let listed = IndexedMasks(model: model, masks: masks)
        #expect(listed.patterns.allSatisfy { $0 != nil })
        let x1 = EmpiricalNTKTests.randomInputs(model, count: 4, seed: 3)
        let x2 = EmpiricalNTKTests.randomInputs(model, count: 4, seed: 4)
        let targets = TransferLoss.Targets.teacher(model: model, parameters: model.initialize(seed: 1), x1: x1, x2: x2)
        let loss = TransferLoss(lambdaKernel: 0.5, lambdaL2: 0.01, density: 0.03, scope: .surviving)
        func scalars(_ t: TransferLoss.Terms) -> [Float] {
            [t.total, t.ntkDistance, t.targetDistance, t.l2].map(\.scalar)
        }
        let (perCall, perCallGrads) = loss.valueAndGradient(model: model, parameters: student, masks: masks, x1: x1,
                                                            x2: x2, targets: targets, straightThrough: straightThrough)
        let (given, givenGrads) = loss.valueAndGradient(model: model, parameters: student, masks: listed, x1: x1,
                                                        x2: x2, targets: targets, straightThrough: straightThrough)
        #expect(scalars(given) == scalars(perCall))
        #expect(givenGrads.flattened.map(\.scalars) == perCallGrads.flattened.map(\.scalars))
        let evaluated = withoutDerivatives {
            (loss.evaluate(model: model, parameters: student, masks: masks, x1: x1, x2: x2, targets: targets),
             loss.evaluate(model: model, parameters: student, masks: listed, x1: x1, x2: x2, targets: targets))
        }
        #expect(scalars(evaluated.1) == scalars(evaluated.0))
    }
    /// Loss and gradient are the same bits with one, two or three threads, with the teacher's
    /// targets given or computed during the step: with two threads the teacher's kernel runs
    /// beside the student's, or (targets given) the student's two batches run side by side, each
    /// recording on the tape.
    @Test(arguments: [0, 1])
    func lossAndGradientAreTheSameBitsOnAnyBudget(specIndex: Int) throws {
        let (text, inputShape) = EmpiricalNTKTests.specs[specIndex]
        let model = try Model(spec: ModelSpec(parsing: text), inputShape: inputShape)
        let (teacher, student) = (model.initialize(seed: 11), model.initialize(seed: 12))
        let masks = IndexedMasks(model: model, masks: EmpiricalNTKTests.randomMasks(model, seed: 4, keep: 0.3))
        let x = EmpiricalNTKTests.randomInputs(model, count: 16, seed: 8)
        let x1 = x.slice(rows: 0..<8), x2 = x.slice(rows: 8..<16)
        let loss = TransferLoss(lambdaKernel: 0.5, lambdaL2: 0.01, density: 0.3)
        func run(_ targets: TransferLoss.TargetSource) -> [[Float]] {
            let (t, g) = loss.valueAndGradient(model: model, parameters: student, masks: masks,
                                               x1: x1, x2: x2, targets: targets)
            return [[t.total, t.ntkDistance, t.targetDistance, t.l2].map(\.scalar)] + g.flattened.map(\.scalars)
        }
        let targets = TransferLoss.Targets.teacher(model: model, parameters: teacher, x1: x1, x2: x2)
        let expected = Parallel.$threadBudget.withValue(1) { run(.given(targets)) }
        for budget in [1, 2, 3] {
            Parallel.$threadBudget.withValue(budget) {
                #expect(run(.teacher(teacher)) == expected, "budget \(budget), teacher")
                #expect(run(.given(targets)) == expected, "budget \(budget), given")
            }
        }
    }
}
