import Foundation
import NeuralTangentTransfer

/// The empirical NTK of a checkpoint on dataset inputs, summarised by its trace and Frobenius
/// norm and, with `against`, its distance mean((Θ − Θ')²) to another checkpoint's kernel.
public struct KernelRun {
    public let config: KernelConfig

    public init(config: KernelConfig) throws { self.config = try config.validated() }

    public struct Result: Sendable {
        /// Θ[i, j, a, b] = ⟨∂f_a(x1_i)/∂θ, ∂f_b(x2_j)/∂θ⟩.
        public var kernel: Tensor
        public var x1: Tensor
        public var x2: Tensor
        public var model: Model
        public var checkpointFile: String
        /// Σ_i Σ_a Θ[i, i, a, a] over the diagonal pairs of the two batches.
        public var trace: Double
        /// ‖Θ‖_F.
        public var frobenius: Double
        /// mean((Θ − Θ')²) to the kernel of `config.against`, and that file.
        public var distance: (file: String, value: Double)?
    }

    public func run(dataset: Dataset) throws -> Result {
        let c = config
        let path = Initialization.checkpointFile(c.checkpoint)
        guard FileManager.default.fileExists(atPath: path) else {
            throw NTTError("--checkpoint: \(path) does not exist")
        }
        guard let modelText = try c.model ?? ModelCheckpoint.recordedModel(path) else {
            throw NTTError("--model is required: \(path) records no model")
        }
        let model = try Model(spec: ModelSpec.resolve(modelText, classes: dataset.classes),
                              imageShape: dataset.imageShape)
        guard c.count <= dataset.test.count else {
            throw NTTError("--count \(c.count) exceeds the \(dataset.test.count) test inputs")
        }
        let (n1, n2) = c.pairs == .halves ? (c.count / 2, c.count / 2) : (c.count, c.count)
        try MemoryEstimate.check(MemoryEstimate.kernel(model, n1: n1, n2: n2),
                                 what: "the kernel of \(model.spec) on \(n1)×\(n2) inputs",
                                 lower: "--count (or use --pairs halves)")
        let x = model.prepare(dataset.test.batch(Array(0..<c.count)).images)
        let (x1, x2) = c.pairs == .halves
            ? (x.slice(rows: 0..<(c.count / 2)), x.slice(rows: (c.count / 2)..<c.count)) : (x, x)
        func kernel(_ file: String) throws -> Tensor {
            let checkpoint = try ModelCheckpoint.load(file, model: model)
            return withoutDerivatives {
                EmpiricalNTK.compute(model: model, parameters: checkpoint.parameters, masks: checkpoint.masks,
                                     x1: x1, x2: x2, scope: c.scope).kernel
            }
        }
        let theta = try kernel(path)
        guard theta.scalars.allSatisfy(\.isFinite) else {
            throw NTTError("--checkpoint \(path): its kernel has NaN or infinite entries "
                           + "(weights too large for Float32?)")
        }
        var result = Result(kernel: theta, x1: x1, x2: x2, model: model, checkpointFile: path,
                            trace: Self.trace(theta), frobenius: Self.frobenius(theta))
        if let against = c.against {
            let file = Initialization.checkpointFile(against)
            result.distance = (file, Self.distance(theta, try kernel(file)))
        }
        return result
    }

    /// Writes the kernel and its inputs as safetensors (`ntk`, `x1`, `x2`), atomically.
    public func write(_ result: Result, to path: String, overwrite: Bool = false) throws {
        try checkOutput(path, overwrite: overwrite)
        try SafeTensors.write([("ntk", result.kernel), ("x1", result.x1), ("x2", result.x2)],
                              metadata: ["model": result.model.spec.description, "checkpoint": result.checkpointFile,
                                         "scope": config.scope.rawValue,
                                         "layout": "ntk[i, j, a, b] = <df_a(x1_i)/dθ, df_b(x2_j)/dθ>"],
                              to: path)
    }

    /// Refuses an output path that exists (unless `overwrite` and it is a regular file) or whose
    /// folder does not exist; the CLI calls it before any work.
    public func checkOutput(_ path: String, overwrite: Bool) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder) else {
            throw NTTError("--out \(path): the folder \(folder) does not exist")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        guard overwrite, !isDirectory.boolValue, type == .typeRegular else {
            throw NTTError("--out \(path) already exists; choose another --out"
                           + (type == .typeRegular ? " or pass --overwrite" : " (only regular files are replaced)"))
        }
    }

    /// Σ_i Σ_a Θ[i, i, a, a] for a kernel [n₁, n₂, k, k], in double precision.
    public static func trace(_ theta: Tensor) -> Double {
        let (n1, n2, k) = (theta.shape[0], theta.shape[1], theta.shape[2])
        var sum = 0.0
        for i in 0..<min(n1, n2) { for a in 0..<k { sum += Double(theta.scalars[((i * n2 + i) * k + a) * k + a]) } }
        return sum
    }

    public static func frobenius(_ theta: Tensor) -> Double {
        theta.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    /// mean((Θ − Θ′)²) in double precision; also the output distance of `ProbeComparison`.
    public static func distance(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(a.count)
    }
}
