import ArgumentParser
import Foundation
import NTTRuns

/// Options every compute command shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for products and other parallel kernels (default: $OPENBLAS_NUM_THREADS, else the number of cores).")
    var threads: Int?

    /// The thread budget: --threads, else $OPENBLAS_NUM_THREADS, else the number of cores.
    var budget: Int {
        threads ?? ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"].flatMap { Int($0) }.flatMap { $0 >= 1 ? $0 : nil }
            ?? ProcessInfo.processInfo.activeProcessorCount
    }

    /// Runs `body` (the command's one library call) with the thread budget.
    func run<R>(_ body: () throws -> R) throws -> R {
        if let threads, threads < 1 { throw NTTError("--threads must be at least 1, got \(threads)") }
        return try ComputeBudget.run(threads: budget, body)
    }
}

/// Which data to use.
struct DataOptions: ParsableArguments {
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: String = DatasetName.fashionMNIST.rawValue

    @Option(help: "Folder with the dataset's files (default for fashion-mnist: \(DatasetName.fashionMNISTSystemDirectory)).")
    var dataDir: String?

    func load() throws -> Dataset { try DatasetLoader.load(dataset, dataDirectory: dataDir) }
}

/// Where results go.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output folder (created; must not exist unless --overwrite).")
    var out: String

    @Flag(help: "Replace the output folder if it exists.")
    var overwrite = false

    var url: URL { URL(fileURLWithPath: out) }

    /// Creates the folder for a new run; refuses an existing one unless --overwrite.
    func create() throws -> RunFolder { try RunFolder.create(url, overwrite: overwrite) }
}
