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
        2000-example subsets, the last record on the whole sets), probe-outputs.safetensors (the \
        network's outputs on the first 256 test inputs at iteration 0 and every --evaluate-every) and \
        model.safetensors into --out. config.json records initial_distance: the NTK and output distances \
        to the dense network with the same initial weights on the transfer's probe (a method: the \
        unpruned initialisation of --seed; a transfer run: its teacher). With --reference DENSE_RUN (a \
        training run with the same model, data, --seed, --batch-size, --iterations/--epochs and \
        --evaluate-every), every record also holds output_distance and agreement against it.
        """)

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var settings: TrainingOptions
    @Option(help: "Initialisation: a run folder, a checkpoint, or a method name.") var `init`: String
    @Option(help: "A dense training run (or its probe-outputs.safetensors) trained in lockstep, to compare with.")
    var reference: String?

    func run() throws {
        let run = try TrainingRun(config: TrainingRunConfig(initialization: try Initialization(parsing: `init`),
                                                            training: settings.config(data: data),
                                                            reference: reference))
        let dataset = try data.load()
        let folder = try output.create()
        let bar = ProgressBar(total: 1, label: "train")
        let stop = SignalHandlers.install()
        let outcome: TrainingRun.Outcome
        do {
            outcome = try compute.run {
                try run.run(dataset: dataset, folder: folder, stop: stop) { p in
                    bar.total = p.total
                    bar.update(p.iteration,
                               status: p.testAccuracy.map { String(format: "test %.2f%%", $0 * 100) } ?? "")
                }
            }
        } catch let stopped as Trainer.Stopped {
            bar.finish()
            // Training keeps no checkpoint: say so, and that --out is as it was.
            print("interrupted after iteration \(stopped.iteration) of \(stopped.total); nothing was written "
                  + "(\(folder.path) is as it was). Training starts again from the beginning when re-run.")
            throw ExitCode(130)
        }
        bar.finish()
        if let d = outcome.initialDistance {
            print(String(format: "at the start: NTK distance %.4g, output distance %.4g to the dense network "
                             + "(transfer probe, %d inputs)", d.ntkDistance, d.targetDistance, d.probeInputs))
        }
        if let last = outcome.trajectory.last {
            print(String(format: "against --reference at iteration %d: output distance %.4g, agreement %.2f%%",
                         last.iteration, last.outputDistance, last.agreement * 100))
        }
        print(String(format: "test accuracy %.2f%% (train %.2f%%) after %d iterations, %.1f s; results in %@",
                     outcome.record.testAccuracy * 100, outcome.record.trainAccuracy * 100, outcome.record.iteration,
                     outcome.seconds, folder.path))
    }
}

extension TrainConfig.OptimizerKind: ExpressibleByArgument {}
extension TrainConfig.Schedule: ExpressibleByArgument {}
