import ArgumentParser
import Foundation
import NTTRuns

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the kernels and steps the method is made of (medians after warm-up).",
        discussion: "Build with -c release. Machines are noisy: compare figures measured in one run. "
            + "Each workload also reports its work in matrix products per run (GFLOP counted at every "
            + "OpenBLAS call; gemm_gflop in --json) and the rate that implies. "
            + "The Conv-4 workloads (seconds per step, over a GB of memory) run only when --filter "
            + "selects them, e.g. --filter conv4.")

    @OptionGroup var compute: ComputeOptions
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: ArgumentHelp("Minimum timed repetitions per benchmark (after ≥ 0.3 s of warm-up; at least "
                               + "1 s is timed; default \(Benchmark.defaultRepeats), "
                               + "\(Benchmark.slowRepeats) for the Conv-4 workloads)."))
    var repeats: Int?
    @Option(help: "Only benchmarks whose name contains this text.") var filter: String?

    func run() throws {
        if let repeats, repeats < 1 { throw NTTError("--repeats must be at least 1, got \(repeats)") }
        let selected = try Benchmark.selected(filter)
        var handoff: [Double] = []
        let results = try compute.run {
            handoff += Benchmark.handoffMicroseconds().map { [$0] } ?? []
            defer { handoff += Benchmark.handoffMicroseconds().map { [$0] } ?? [] }
            return try selected.map { b in
                let r = try b.measure(repeats: repeats)
                if !json {
                    print(b.name.padding(toLength: 34, withPad: " ", startingAt: 0)
                          + String(format: "%10.3f ms", r.medianMs)
                          + (r.gflops.map { String(format: "  %7.1f GFLOP/s", $0) }
                             ?? String(format: "  GEMMs %.4g GFLOP, %.0f GFLOP/s", r.gemmGflop,
                                       r.gemmGflop / r.medianMs * 1e3)))
                }
                return r
            }
        }
        let report = Benchmark.Report(benchmarks: results, threads: compute.budget,
                                      peakMemoryMb: Benchmark.peakMemoryMB(), tool: "ntt \(NTTVersion.current)",
                                      handoffUs: handoff.isEmpty ? nil : handoff)
        if json {
            print(String(decoding: try RunJSON.lineEncoder.encode(report), as: UTF8.self))
        } else {
            let peak = report.peakMemoryMb.map { String(format: ", peak memory %.0f MB", $0) } ?? ""
            let between = handoff.isEmpty ? ""
                : ", handoff between threads " + handoff.map { String(format: "%.2f", $0) }.joined(separator: " → ")
                    + " µs (before → after)"
            print("threads \(report.threads)\(peak)\(between)")
        }
    }
}
