import ArgumentParser
import NTTRuns

/// NTK-SAP's one exposed setting (shared by `prune` and `train`; `experiment` has it as a grid key).
struct NtkSapOptions: ParsableArguments {
    static let help = "ntk-sap: fresh random draws of the weights (each with its own Gaussian inputs) per pruning "
        + "round, as the reference's --ntksap_R (default: \(NtkSapPruner.defaultResamples))."

    @Option(help: ArgumentHelp(help)) var ntkSapResamples = NtkSapPruner.defaultResamples
}
