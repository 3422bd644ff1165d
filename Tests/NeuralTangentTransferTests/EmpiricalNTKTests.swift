import Testing
import NTTKernels
@testable import NeuralTangentTransfer

/// Fast structured NTK vs the plain Jacobian contraction, on small random nets.
struct EmpiricalNTKTests {
    static let specs: [(String, [Int])] = [
        ("dense(5),relu,dense(4),relu,dense(3)", [6]),
        ("conv(4,3),relu,maxpool(2),conv(3,3,padding=same),relu,avgpool(2),flatten,dense(3)", [8, 8, 2]),
        ("conv(3,3,stride=2,padding=same),relu,avgpool(2,stride=1,padding=same),conv(2,2),"
             + "flatten,dense(4),relu,dense(2)", [7, 6, 1]),
    ]

    static func randomMasks(_ model: Model, seed: UInt64, keep: Double = 0.5) -> [Tensor] {
        var rng = SeededRandom(seed: seed, stream: "test.masks")
        return model.parameterShapes.map { s in
            Tensor(shape: s.weight, scalars: (0..<s.weight.reduce(1, *)).map { _ in rng.nextUniform() < keep ? 1 : 0 })
        }
    }

    static func randomInputs(_ model: Model, count: Int, seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed, stream: "test.inputs")
        let shape = [count] + model.inputShape
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextNormal()) })
    }

    static func maxRelativeError(_ a: Tensor, _ b: Tensor) -> Float {
        #expect(a.shape == b.shape)
        let scale = b.scalars.map(abs).max() ?? 1
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / max(scale, 1e-12)
    }

    @Test(arguments: 0..<3, KernelScope.allCases)
    func fastMatchesJacobianContraction(specIndex: Int, scope: KernelScope) throws {
        let (text, inputShape) = Self.specs[specIndex]
        let model = try Model(spec: ModelSpec(parsing: text), inputShape: inputShape)
        let params = model.initialize(seed: 7)
        let masks = Self.randomMasks(model, seed: 3)
        let x1 = Self.randomInputs(model, count: 3, seed: 1), x2 = Self.randomInputs(model, count: 4, seed: 2)
        let plain = JacobianNTK.compute(model: model, parameters: params, masks: masks, x1: x1, x2: x2, scope: scope)
        for form in EmpiricalNTK.ConvContraction.allCases {
            let fast = EmpiricalNTK.compute(model: model, parameters: params, masks: masks, x1: x1, x2: x2,
                                            scope: scope, convContraction: form)
            #expect(fast.kernel.shape == [3, 4, model.outputCount, model.outputCount])
            #expect(Self.maxRelativeError(fast.kernel, plain) < 1e-5, "\(text) \(scope) \(form)")
            #expect(fast.outputs1.scalars == model.apply(params, masks: masks, to: x1).scalars)
        }
    }

    @Test func scopesAgreeWithoutMasksAndDifferWithThem() throws {
        let model = try Model(spec: ModelSpec(parsing: Self.specs[0].0), inputShape: [6])
        let params = model.initialize(seed: 1)
        let x1 = Self.randomInputs(model, count: 2, seed: 5), x2 = Self.randomInputs(model, count: 2, seed: 6)
        let ones = model.parameterShapes.map { Tensor.ones($0.weight) }
        let e = EmpiricalNTK.compute(model: model, parameters: params, masks: ones, x1: x1, x2: x2, scope: .effective)
        let s = EmpiricalNTK.compute(model: model, parameters: params, masks: ones, x1: x1, x2: x2, scope: .surviving)
        #expect(Self.maxRelativeError(e.kernel, s.kernel) < 1e-6)
        let masks = Self.randomMasks(model, seed: 9, keep: 0.3)
        let e2 = EmpiricalNTK.compute(model: model, parameters: params, masks: masks, x1: x1, x2: x2, scope: .effective)
        let s2 = EmpiricalNTK.compute(model: model, parameters: params, masks: masks, x1: x1, x2: x2, scope: .surviving)
        #expect(Self.maxRelativeError(e2.kernel, s2.kernel) > 1e-3)
    }

    /// At low density the dense and conv layers multiply sparsely (raw weights, kept entries): the
    /// same kernel as the plain contraction, outputs equal to the dense pass up to rounding.
    @Test(arguments: KernelScope.allCases, TransferLossTests.sparseSpecs.indices)
    func sparseMasksMatchJacobianContraction(scope: KernelScope, specIndex: Int) throws {
        let (text, inputShape) = TransferLossTests.sparseSpecs[specIndex]
        let model = try Model(spec: ModelSpec(parsing: text), inputShape: inputShape)
        let params = model.initialize(seed: 2)
        let masks = Self.randomMasks(model, seed: 5, keep: 0.03)
        #expect(IndexedMasks(model: model, masks: masks).patterns.allSatisfy { $0 != nil })
        let x1 = Self.randomInputs(model, count: 5, seed: 1), x2 = Self.randomInputs(model, count: 3, seed: 2)
        let plain = JacobianNTK.compute(model: model, parameters: params, masks: masks, x1: x1, x2: x2, scope: scope)
        let fast = EmpiricalNTK.compute(model: model, parameters: params, masks: masks, x1: x1, x2: x2, scope: scope)
        #expect(Self.maxRelativeError(fast.kernel, plain) < 1e-5, "\(scope)")
        #expect(Self.maxRelativeError(fast.outputs2, model.apply(params, masks: masks, to: x2)) < 1e-6)
    }

    /// Masks listed beforehand (as a transfer lists them once per mask update) give the same bits
    /// as masks listed by the call, sparse or dense, in every scope.
    @Test(arguments: KernelScope.allCases)
    func listedMasksGiveTheSameKernel(scope: KernelScope) throws {
        let model = try Model(spec: ModelSpec(parsing: "dense(40),relu,dense(30),relu,dense(3)"), inputShape: [50])
        let params = model.initialize(seed: 2)
        let x1 = Self.randomInputs(model, count: 5, seed: 1), x2 = Self.randomInputs(model, count: 3, seed: 2)
        for keep in [0.03, 0.5] {
            let masks = Self.randomMasks(model, seed: 5, keep: keep)
            let listed = IndexedMasks(model: model, masks: masks)
            #expect(listed.patterns.contains { $0 != nil } == (keep < 0.05))
            let perCall = EmpiricalNTK.compute(model: model, parameters: params, masks: masks, x1: x1, x2: x2,
                                               scope: scope)
            for _ in 0..<2 {
                let given = EmpiricalNTK.compute(model: model, parameters: params, masks: listed, x1: x1, x2: x2,
                                                 scope: scope)
                #expect(given.kernel.scalars == perCall.kernel.scalars, "keep \(keep)")
                #expect(given.outputs1.scalars == perCall.outputs1.scalars)
                #expect(given.outputs2.scalars == perCall.outputs2.scalars)
            }
        }
    }
}
