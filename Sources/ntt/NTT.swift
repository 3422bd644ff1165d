import ArgumentParser
import NeuralTangentTransfer

@main
struct NTT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntt",
        abstract: "Find trainable sparse networks before training with Neural Tangent Transfer, "
            + "and compare them with pruning-at-init baselines.",
        version: NTTVersion.current,
        subcommands: [DemoCommand.self, ExperimentCommand.self, ReportCommand.self, TransferCommand.self,
                      TrainCommand.self, PruneCommand.self, KernelCommand.self, BenchCommand.self])
}
