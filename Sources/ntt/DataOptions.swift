import ArgumentParser
import Foundation
import NTTRuns

/// Which data to use.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(DatasetName.helpText))
    var dataset: String = DatasetName.fashionMNIST.rawValue

    @Option(help: ArgumentHelp("Folder with the dataset's files "
                               + "(default for fashion-mnist: \(DatasetName.fashionMNISTSystemDirectory))."))
    var dataDir: String?

    /// The dataset, for training (labelled) or for the transfer (a `+` union of datasets allowed).
    func load(for use: DatasetUse = .supervised) throws -> Dataset {
        try DatasetLoader.load(dataset, dataDirectory: dataDir, for: use)
    }
}
