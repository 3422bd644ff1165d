import ArgumentParser
import Foundation
import NTTRuns

struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Label-free transfer: find a sparse initialisation whose outputs and NTK match a dense teacher's.",
        discussion: """
        Writes into --out: config.json, metrics.jsonl (probe metrics every --record-every iterations), \
        student.safetensors (masked weights, biases, masks), teacher.safetensors, probe.safetensors. \
        An interrupted run (Ctrl-C, SIGTERM) checkpoints and continues with --resume.
        """)

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var settings: TransferOptions
    @Flag(help: "Continue an interrupted run in --out (same settings).") var resume = false
    @Option(help: .hidden) var stopAfter: Int?  // testing: behave as if interrupted after this iteration

    func run() throws {
        let stop = SignalHandlers.install()
        let config = settings.config(data: data)
        try config.validate()
        let dataset = try data.load(for: .transfer)
        let folder = resume ? try RunFolder.existing(output.url) : try output.create(resumable: true)
        let run = try TransferRun(config: config, dataset: dataset, folder: folder)
        let bar = ProgressBar(total: run.totalIterations, label: "transfer")
        let start = Date()
        var seconds = 0.0
        let outcome = try compute.run {
            try run.run(resume: resume, stop: stop, stopAfter: stopAfter) { p in
                seconds = p.seconds
                bar.update(p.iteration, status: String(format: "ntk %.4g", p.ntkDistance))
            }
        }
        bar.finish()
        switch outcome {
        case .finished:
            // From the records, so that a resumed run also reports the distance at iteration 0.
            let records = try run.records()
            let thisRun = resume ? String(format: " (%.1f s since resuming)", Date().timeIntervalSince(start)) : ""
            print(String(format: "done in %.1f s%@: NTK distance on the probe %.4g → %.4g; results in %@", seconds,
                         thisRun, records.first?.ntkDistance ?? .nan, records.last?.ntkDistance ?? .nan, folder.path))
        case .interrupted(let t):
            print("interrupted after iteration \(t); state saved. Continue with the same command plus --resume.")
            throw ExitCode(130)
        }
    }
}

extension PruningScopeChoice: ExpressibleByArgument {}
extension KernelScope: ExpressibleByArgument {}
extension PrunedUpdates: ExpressibleByArgument {}
extension TransferConfig.InitialMask: ExpressibleByArgument {}
