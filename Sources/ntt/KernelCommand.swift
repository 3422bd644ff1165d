import ArgumentParser
import Foundation
import NeuralTangentTransfer

struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Compute the empirical NTK of a checkpoint on dataset inputs and write it as safetensors.",
        discussion: """
        Uses the first --count test inputs. With --pairs halves the kernel is between the first and \
        second half ([n/2, n/2, k, k]); with --pairs all it is all against all ([n, n, k, k]). \
        Prints the trace (of the all-vs-all or half-vs-half block), the Frobenius norm, and with \
        --against the kernel distance mean((Θ−Θ')²) to another checkpoint's kernel on the same inputs.
        """)

    enum Pairs: String, ExpressibleByArgument, CaseIterable { case halves, all }

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @Option(help: "A safetensors checkpoint (student.safetensors, teacher.safetensors, model.safetensors, …) or a transfer run folder.")
    var checkpoint: String
    @Option(help: "Model (default: the one recorded in the checkpoint).") var model: String?
    @Option(help: "Number of inputs.") var count = 64
    @Option(help: "Kernel scope: effective or surviving.") var scope: KernelScope = .effective
    @Option(help: "Input pairs: halves or all.") var pairs: Pairs = .halves
    @Option(help: "A second checkpoint to compare with.") var against: String?
    @Option(help: "Output safetensors file for the kernel (tensor 'ntk').") var out: String?

    func validate() throws {
        guard count >= 2 else { throw ValidationError("--count must be at least 2, got \(count)") }
        if pairs == .halves && count % 2 != 0 { throw ValidationError("--count must be even with --pairs halves, got \(count)") }
    }

    static func resolve(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return (path as NSString).appendingPathComponent("student.safetensors")
        }
        return path
    }

    func run() throws { try compute.run(work) }

    private func work() throws {
        let dataset = try data.load()
        let path = Self.resolve(checkpoint)
        guard FileManager.default.fileExists(atPath: path) else { throw NTTError("--checkpoint: \(path) does not exist") }
        guard let modelText = model ?? ModelCheckpoint.recordedModel(path) else {
            throw NTTError("--model is required: \(path) records no model")
        }
        let m = try Model(spec: ModelSpec.resolve(modelText, classes: dataset.classes), imageShape: dataset.imageShape)
        guard count <= dataset.test.count else { throw NTTError("--count \(count) exceeds the \(dataset.test.count) test inputs") }
        let x = m.prepare(dataset.test.batch(Array(0..<count)).images)
        let (x1, x2) = pairs == .halves ? (x.slice(rows: 0..<(count / 2)), x.slice(rows: (count / 2)..<count)) : (x, x)
        func kernel(_ file: String) throws -> Tensor {
            let c = try ModelCheckpoint.load(file, model: m)
            return withoutDerivatives {
                EmpiricalNTK.compute(model: m, parameters: c.parameters, masks: c.masks, x1: x1, x2: x2, scope: scope).kernel
            }
        }
        let theta = try kernel(path)
        let (n1, n2, k) = (theta.shape[0], theta.shape[1], theta.shape[2])
        var trace = 0.0
        for i in 0..<min(n1, n2) { for a in 0..<k { trace += Double(theta.scalars[((i * n2 + i) * k + a) * k + a]) } }
        let frobenius = theta.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        print("kernel \(theta.shape) of \(path) (\(scope.rawValue) scope)")
        print(String(format: "trace %.6g  frobenius %.6g", trace, frobenius))
        if let against {
            let other = try kernel(Self.resolve(against))
            let distance = zip(theta.scalars, other.scalars).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(theta.count)
            print(String(format: "kernel distance to %@: %.6g", Self.resolve(against), distance))
        }
        if let out {
            try SafeTensors.write([("ntk", theta), ("x1", x1), ("x2", x2)],
                                  metadata: ["model": m.spec.description, "checkpoint": path, "scope": scope.rawValue,
                                             "layout": "ntk[i, j, a, b] = <df_a(x1_i)/dθ, df_b(x2_j)/dθ>"],
                                  to: out)
            print("wrote \(out)")
        }
    }
}
