import ArgumentParser
import Foundation
import NTTRuns

/// Which sparse network: the model, the density, the seed and the pruning scope (shared by
/// `transfer`, `train` and `prune`).
struct NetworkOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Model: \(ModelSpec.builtinNames.joined(separator: ", ")), "
                               + "or a spec such as 'dense(300),relu,dense(10)'."))
    var model = "lenet-300-100"
    @Option(help: "Fraction of weights kept, in (0, 1].") var density = 0.03
    @Option(help: "Random seed (initialisation, data order, splits).") var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Pruning scope: native (each method's own: layer-wise for ntt, random, "
                               + "magnitude; global for snip, logit-snip, grasp, synflow, ntk-sap), "
                               + "layerwise or global."))
    var prune: PruningScopeChoice = .native
}
