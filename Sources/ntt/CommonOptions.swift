import ArgumentParser
import Foundation
import NeuralTangentTransfer
import NTTKernels

/// Options every compute command shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for products and other parallel kernels (default: $OPENBLAS_NUM_THREADS, else the number of cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Runs a command's work with these options (see `ComputeOptionsValues.run`).
    func run<R>(_ body: () throws -> R) rethrows -> R { try ComputeOptionsValues(threads: threads).run(body) }
}

/// `ComputeOptions` without argument parsing, for code that sets threads itself.
struct ComputeOptionsValues {
    let threads: Int?

    /// --threads, else $OPENBLAS_NUM_THREADS, else the number of cores.
    var budget: Int {
        threads
            ?? ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"].flatMap { Int($0) }.flatMap { $0 >= 1 ? $0 : nil }
            ?? ProcessInfo.processInfo.activeProcessorCount
    }

    /// Tunes the allocator for numeric work, then runs `body` within the thread budget.
    func run<R>(_ body: () throws -> R) rethrows -> R {
        AllocatorTuning.keepFreedMemory()
        return try Threads.withBudget(budget, body)
    }
}

/// Which data to use.
struct DataOptions: ParsableArguments {
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: String = DatasetName.fashionMNIST.rawValue

    @Option(help: "Folder with the dataset's files (default for fashion-mnist: \(DatasetName.fashionMNISTSystemDirectory)).")
    var dataDir: String?

    func validate() throws {
        guard DatasetName(rawValue: dataset) != nil else {
            throw ValidationError("unknown --dataset '\(dataset)'; expected one of \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func load() throws -> Dataset {
        try DatasetLoader.load(dataset, dataDirectory: dataDir)
    }
}

/// Where results go.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output folder (created; must not exist unless --overwrite).")
    var out: String

    @Flag(help: "Replace the output folder if it exists.")
    var overwrite = false

    /// Creates the folder; refuses an existing one unless `--overwrite` (or `resume`).
    func prepare(resume: Bool = false) throws -> URL {
        try Self.prepareDirectory(out, overwrite: overwrite, resume: resume)
    }

    static func prepareDirectory(_ out: String, overwrite: Bool, resume: Bool = false) throws -> URL {
        let url = URL(fileURLWithPath: out)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if resume {
            guard exists && isDirectory.boolValue else { throw NTTError("--resume: \(url.path) is not a run folder") }
            return url
        }
        if exists {
            guard overwrite else { throw NTTError("\(url.path) already exists; choose another --out, pass --overwrite, or --resume an interrupted run") }
            try fm.removeItem(at: url)
        }
        do { try fm.createDirectory(at: url, withIntermediateDirectories: true) }
        catch { throw NTTError("\(url.path): cannot create the folder (\(error.localizedDescription))") }
        return url
    }
}
