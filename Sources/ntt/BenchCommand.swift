import ArgumentParser
import Foundation
import NeuralTangentTransfer

/// One timed workload: `setup` builds the inputs once and returns the closure to time.
struct Benchmark {
    let name: String
    /// Floating-point operations of one run, when meaningful.
    let flops: Double?
    let setup: () throws -> () -> Void
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the kernels and steps the method is made of (medians after warm-up).",
        discussion: "Build with -c release. Machines are noisy: compare figures measured in one run.")

    @OptionGroup var compute: ComputeOptions
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Minimum timed repetitions per benchmark (after ≥ 0.3 s of warm-up; at least 1 s is timed).") var repeats = 10
    @Option(help: "Only benchmarks whose name contains this text.") var filter: String?

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
    }

    struct Result: Encodable {
        let name: String
        let median_ms: Double
        let min_ms: Double
        let repeats: Int
        let gflops: Double?
    }

    struct Report: Encodable {
        let benchmarks: [Result]
        let threads: Int
        let peak_memory_mb: Double?
        let tool: String
    }

    func run() throws { try compute.run(work) }

    private func work() throws {
        let selected = Self.all.filter { filter == nil || $0.name.contains(filter!) }
        guard !selected.isEmpty else { throw ValidationError("--filter '\(filter!)' matches no benchmark; names: \(Self.all.map(\.name).joined(separator: ", "))") }
        var results: [Result] = []
        for b in selected {
            let body = try b.setup()
            // Warm up for at least 0.3 s (caches, worker threads, CPU clocks), then time at least
            // `repeats` runs and at least one second in total.
            let clock = { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
            let warmStart = clock()
            repeat { body() } while clock() - warmStart < 300
            var times: [Double] = []
            let start = clock()
            while times.count < repeats || (clock() - start < 1000 && times.count < 5000) {
                let t0 = clock()
                body()
                times.append(clock() - t0)
            }
            times.sort()
            let median = times[times.count / 2]
            let r = Result(name: b.name, median_ms: (median * 1000).rounded() / 1000, min_ms: (times[0] * 1000).rounded() / 1000,
                           repeats: times.count, gflops: b.flops.map { ($0 / (median * 1e6) * 10).rounded() / 10 })
            results.append(r)
            if !json {
                print(b.name.padding(toLength: 34, withPad: " ", startingAt: 0)
                      + String(format: "%10.3f ms", r.median_ms)
                      + (r.gflops.map { String(format: "  %7.1f GFLOP/s", $0) } ?? ""))
            }
        }
        let report = Report(benchmarks: results, threads: Threads.budget, peak_memory_mb: Self.peakMemoryMB(),
                            tool: "ntt \(NTTVersion.current)")
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else if let peak = report.peak_memory_mb {
            print(String(format: "threads %d, peak memory %.0f MB", report.threads, peak))
        }
    }

    /// VmHWM from /proc/self/status.
    static func peakMemoryMB() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb / 1024
    }
}
