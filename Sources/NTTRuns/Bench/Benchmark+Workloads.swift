import Foundation
import NeuralTangentTransfer
import NTTKernels

extension Benchmark {
    static func random(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var rng = SeededRandom(seed: seed, stream: "bench")
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextNormal()) })
    }

    static func gemm(_ name: String, m: Int, n: Int, k: Int, transposeA: Bool = false) -> Benchmark {
        Benchmark(name: name, flops: 2 * Double(m * n * k)) {
            let a = random(transposeA ? [k, m] : [m, k]), b = random([k, n], seed: 2)
            return { _ = Tensor.matmul(a, transposeA: transposeA, b) }
        }
    }

    /// A built-in model with 10 classes on `imageShape` inputs (28×28×1 by default) and its
    /// layer-wise magnitude masks at `density` (1.0 for dense).
    static func setupModel(_ name: String, density: Double,
                           imageShape: [Int] = [28, 28, 1]) throws -> (Model, [LayerParameters], [Tensor]) {
        let model = try Model(spec: ModelSpec.builtin(name, classes: 10)!, imageShape: imageShape)
        let params = model.initialize(seed: 0)
        let masks = MagnitudePruner.masks(weights: params.map(\.weight), density: density, scope: .layerwise)
        return (model, params, masks)
    }

    /// Every workload, in the order `ntt bench` runs them.
    public static var all: [Benchmark] { [
        gemm("gemm/64x784*784x300", m: 64, n: 300, k: 784),
        gemm("gemm/320x300*300x320", m: 320, n: 320, k: 300),
        gemm("gemm/784x64^T*64x300", m: 784, n: 300, k: 64, transposeA: true),
        // The shape of LeNet-5's conv2 NTK Gram (320 rows, 25,000 parameters): the rate the CNN
        // steps' largest products can reach here.
        gemm("gemm/320x25000*25000x320", m: 320, n: 320, k: 25_000),
        Benchmark(name: "conv/lenet5-forward-backward", flops: nil) {
            let (model, params, _) = try setupModel("lenet5-caffe", density: 1)
            let x = random([64] + model.inputShape)
            let y = Tensor.oneHot((0..<64).map { $0 % 10 }, classes: 10)
            return {
                _ = valueAndGradient(at: params.flattened) { v in
                    let p = [LayerParameters](unflattening: v)
                    return Tensor.softmaxCrossEntropy(logits: model.apply(p, to: x), labels: y)
                }
            }
        },
    ] + ["lenet-300-100", "lenet5-caffe"].flatMap { name in [
        Benchmark(name: "train-step/\(name)", flops: nil) {
            let (model, params, masks) = try setupModel(name, density: 1)
            let x = random([64] + model.inputShape)
            let y = Tensor.oneHot((0..<64).map { $0 % 10 }, classes: 10)
            var state = params
            var step = TrainingStep(model: model, weightDecay: 1e-8, learningRate: 1e-3)
            return { _ = step(&state, masks: masks, x: x, labels: y) }
        },
        ntk(name),
        nttStep(name),
    ] } + [
        // Conv-4 (VALID, as the original) on CIFAR-shaped inputs: seconds per step, opt-in.
        ntk("conv4", imageShape: [32, 32, 3], isSlow: true),
        nttStep("conv4", imageShape: [32, 32, 3], isSlow: true),
    ] }

    /// The empirical NTK of a built-in model at density 0.03 between two batches of 32, its masks
    /// listed once outside the timed calls, as a transfer lists them once per mask update.
    static func ntk(_ name: String, imageShape: [Int] = [28, 28, 1], isSlow: Bool = false) -> Benchmark {
        Benchmark(name: "ntk/\(name)", flops: nil, isSlow: isSlow) {
            let (model, params, tensors) = try setupModel(name, density: 0.03, imageShape: imageShape)
            let masks = IndexedMasks(model: model, masks: tensors)
            let x1 = random([32] + model.inputShape), x2 = random([32] + model.inputShape, seed: 2)
            return {
                _ = withoutDerivatives {
                    EmpiricalNTK.compute(model: model, parameters: params, masks: masks, x1: x1, x2: x2)
                }
            }
        }
    }

    /// One transfer step of a built-in model at density 0.03 on a batch of 64 (halves of 32), with
    /// λ₂ as the transfer's default (1e-5 for CNNs, 1e-4 otherwise); the masks are listed once
    /// outside the timed steps, as a transfer lists them once per mask update.
    static func nttStep(_ name: String, imageShape: [Int] = [28, 28, 1], isSlow: Bool = false) -> Benchmark {
        Benchmark(name: "ntt-step/\(name)", flops: nil, isSlow: isSlow) {
            let (model, params, tensors) = try setupModel(name, density: 0.03, imageShape: imageShape)
            let masks = IndexedMasks(model: model, masks: tensors)
            let teacher = model.initialize(seed: 1)
            let x = random([64] + model.inputShape)
            let x1 = x.slice(rows: 0..<32), x2 = x.slice(rows: 32..<64)
            let lambdaL2 = TransferConfig().effectiveLambdaL2(for: model)
            let loss = TransferLoss(lambdaKernel: 1e-3, lambdaL2: lambdaL2, density: 0.03)
            var weights = params.flattened
            var adam = Adam(learningRate: 5e-4)
            return {
                // One full transfer step: teacher targets, student NTK + loss + gradient, Adam.
                let current = [LayerParameters](unflattening: weights)
                let (_, grads) = loss.valueAndGradient(model: model, parameters: current, masks: masks,
                                                       x1: x1, x2: x2, targets: .teacher(teacher))
                adam.update(&weights, gradients: grads.flattened)
            }
        }
    }
}
