import ArgumentParser
import Foundation
import NTTRuns

/// Which data to use.
struct DataOptions: ParsableArguments {
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: String = DatasetName.fashionMNIST.rawValue

    @Option(help: "Folder with the dataset's files (default for fashion-mnist: \(DatasetName.fashionMNISTSystemDirectory)).")
    var dataDir: String?

    func load() throws -> Dataset { try DatasetLoader.load(dataset, dataDirectory: dataDir) }
}
