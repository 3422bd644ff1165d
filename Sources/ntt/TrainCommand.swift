import ArgumentParser
import Foundation
import NTTRuns

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Supervised training of a sparse network from a given initialisation; reports test accuracy.",
        discussion: """
        --init is a transfer run folder (its student.safetensors), a prune run folder, a safetensors \
        checkpoint, or a method: \(PruningMethod.names). Masks stay fixed. Writes config.json, \
        metrics.jsonl (iteration, loss, train_accuracy, test_accuracy; periodic accuracies on fixed \
        2000-example subsets, the last record on the whole sets) and model.safetensors into --out.
        """)

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var settings: TrainingOptions
    @Option(help: "Initialisation: a run folder, a checkpoint, or a method name.") var `init`: String

    func run() throws {
        let run = try TrainingRun(config: TrainingRunConfig(initialization: try Initialization(parsing: `init`),
                                                            training: settings.config(data: data)))
        let dataset = try data.load()
        let folder = try output.create()
        let bar = ProgressBar(total: 1, label: "train")
        let outcome = try compute.run {
            try run.run(dataset: dataset, folder: folder) { p in
                bar.total = p.total
                bar.update(p.iteration, status: p.testAccuracy.map { String(format: "test %.2f%%", $0 * 100) } ?? "")
            }
        }
        bar.finish()
        print(String(format: "test accuracy %.2f%% (train %.2f%%) after %d iterations, %.1f s; results in %@",
                     outcome.record.testAccuracy * 100, outcome.record.trainAccuracy * 100, outcome.record.iteration,
                     outcome.seconds, folder.path))
    }
}

extension TrainConfig.OptimizerKind: ExpressibleByArgument {}
extension TrainConfig.Schedule: ExpressibleByArgument {}
