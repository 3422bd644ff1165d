import Foundation
import Testing
@testable import NeuralTangentTransfer

/// Our NTK, outputs and transfer loss (value and gradient) against values computed by an
/// independent implementation: JAX, float64, plain Jacobian contraction
/// (`scripts/reference/make_fixtures.py`; fixtures committed, so CI needs no Python).
struct ReferenceFixtureTests {
    struct Fixture: Decodable {
        struct T: Decodable { let shape: [Int]; let data: [Double]
            var tensor: Tensor { Tensor(shape: shape, scalars: data.map(Float.init)) } }
        struct P: Decodable { let weight: T; let bias: T }
        let model: String
        let input_shape: [Int]
        let lambda_kernel: Double, lambda_l2: Double, density: Double
        let x: T
        let teacher: [P], student: [P], masks: [T]
        let student_outputs: T, teacher_outputs: T
        let ntk_effective: T, ntk_surviving: T, teacher_ntk: T
        let transfer_loss: Double, ntk_distance: Double, target_distance: Double, l2: Double
        let transfer_gradient: [P]
    }

    static let specs = [
        "mlp": "dense(5),relu,dense(4),relu,dense(3)",
        "cnn": "conv(4,3),relu,maxpool(2),conv(3,3,padding=same),relu,avgpool(2),flatten,dense(3)",
    ]

    static func load(_ name: String) throws -> Fixture {
        let url = try #require(Bundle.module.url(forResource: "reference-\(name)", withExtension: "json",
                                                 subdirectory: "Fixtures"),
                               "missing fixture reference-\(name).json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// max |a − b| / max |b|: Float32 arithmetic vs a float64 reference.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = max(b.scalars.map(abs).max() ?? 0, 1e-12)
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: ["mlp", "cnn"])
    func matchesJAX(name: String) throws {
        let f = try Self.load(name)
        let model = try Model(spec: ModelSpec(parsing: Self.specs[name]!), inputShape: f.input_shape)
        let student = f.student.map { LayerParameters(weight: $0.weight.tensor, bias: $0.bias.tensor) }
        let teacher = f.teacher.map { LayerParameters(weight: $0.weight.tensor, bias: $0.bias.tensor) }
        let masks = f.masks.map(\.tensor)
        let x = f.x.tensor
        let half = x.shape[0] / 2
        let x1 = x.slice(rows: 0..<half), x2 = x.slice(rows: half..<x.shape[0])

        #expect(Self.relativeError(model.apply(student, masks: masks, to: x), f.student_outputs.tensor) < 1e-5)
        #expect(Self.relativeError(model.apply(teacher, to: x), f.teacher_outputs.tensor) < 1e-5)
        for (scope, reference) in [(KernelScope.effective, f.ntk_effective), (.surviving, f.ntk_surviving)] {
            let fast = EmpiricalNTK.compute(model: model, parameters: student, masks: masks, x1: x1, x2: x2,
                                            scope: scope)
            #expect(fast.kernel.shape == reference.shape)
            #expect(Self.relativeError(fast.kernel, reference.tensor) < 1e-5, "\(name) \(scope)")
        }
        let teacherKernel = EmpiricalNTK.compute(model: model, parameters: teacher, masks: nil, x1: x1, x2: x2).kernel
        #expect(Self.relativeError(teacherKernel, f.teacher_ntk.tensor) < 1e-5)

        let loss = TransferLoss(lambdaKernel: Float(f.lambda_kernel), lambdaL2: Float(f.lambda_l2),
                                density: Float(f.density))
        let targets = TransferLoss.Targets.teacher(model: model, parameters: teacher, x1: x1, x2: x2)
        let (terms, grads) = loss.valueAndGradient(model: model, parameters: student, masks: masks,
                                                   x1: x1, x2: x2, targets: targets)
        func close(_ a: Float, _ b: Double) -> Bool { abs(Double(a) - b) <= 1e-4 * max(abs(b), 1e-6) }
        #expect(close(terms.total.scalar, f.transfer_loss), "loss \(terms.total.scalar) vs \(f.transfer_loss)")
        #expect(close(terms.ntkDistance.scalar, f.ntk_distance))
        #expect(close(terms.targetDistance.scalar, f.target_distance))
        #expect(close(terms.l2.scalar, f.l2))
        for (l, ref) in f.transfer_gradient.enumerated() {
            #expect(Self.relativeError(grads[l].weight, ref.weight.tensor) < 1e-4, "\(name) layer \(l) weight gradient")
            #expect(Self.relativeError(grads[l].bias, ref.bias.tensor) < 1e-4, "\(name) layer \(l) bias gradient")
        }
    }
}
