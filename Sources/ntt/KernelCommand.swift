import ArgumentParser
import Foundation
import NTTRuns

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

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp("A safetensors checkpoint (student.safetensors, teacher.safetensors, "
                               + "model.safetensors, …) or a run folder."))
    var checkpoint: String
    @Option(help: "Model (default: the one recorded in the checkpoint).") var model: String?
    @Option(help: "Number of inputs.") var count = 64
    @Option(help: "Kernel scope: effective or surviving.") var scope: KernelScope = .effective
    @Option(help: "Input pairs: halves or all.") var pairs: KernelConfig.Pairs = .halves
    @Option(help: "A second checkpoint to compare with.") var against: String?
    @Option(help: "Output safetensors file for the kernel (tensor 'ntk'); must not exist unless --overwrite.")
    var out: String?
    @Flag(help: "Replace --out if it is an existing file.") var overwrite = false

    func run() throws {
        var c = KernelConfig(checkpoint: checkpoint)
        c.against = against; c.model = model; c.dataset = data.dataset; c.dataDirectory = data.dataDir
        c.count = count; c.scope = scope; c.pairs = pairs
        let run = try KernelRun(config: c)
        if let out { try run.checkOutput(out, overwrite: overwrite) }  // before any work
        let dataset = try data.load()
        let result = try compute.run { try run.run(dataset: dataset) }
        print("kernel \(result.kernel.shape) of \(result.checkpointFile) (\(scope.rawValue) scope)")
        print(String(format: "trace %.6g  frobenius %.6g", result.trace, result.frobenius))
        if let distance = result.distance {
            print(String(format: "kernel distance to %@: %.6g", distance.file, distance.value))
        }
        if let out {
            try run.write(result, to: out, overwrite: overwrite)
            print("wrote \(out)")
        }
    }
}

extension KernelConfig.Pairs: ExpressibleByArgument {}
