import ArgumentParser
import Foundation
import NTTRuns

/// Options every compute command shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Threads for products and other parallel kernels "
                               + "(default: $OPENBLAS_NUM_THREADS, else the number of cores)."))
    var threads: Int?

    /// The thread budget: --threads, else $OPENBLAS_NUM_THREADS, else the number of cores.
    var budget: Int {
        threads ?? ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"].flatMap { Int($0) }
            .flatMap { $0 >= 1 ? $0 : nil }
            ?? ProcessInfo.processInfo.activeProcessorCount
    }

    /// Runs `body` (the command's one library call) with the thread budget.
    func run<R>(_ body: () throws -> R) throws -> R {
        if let threads, threads < 1 { throw NTTError("--threads must be at least 1, got \(threads)") }
        return try ComputeBudget.run(threads: budget, body)
    }
}
