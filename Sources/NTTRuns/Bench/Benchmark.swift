import Foundation
import NeuralTangentTransfer

/// One timed workload: `setup` builds the inputs once and returns the closure to time.
public struct Benchmark {
    public let name: String
    /// Floating-point operations of one run, when meaningful.
    public let flops: Double?
    /// A workload of seconds per run (Conv-4): left out of a plain `ntt bench` (its time and its
    /// peak memory), run when a filter selects it, and timed `slowRepeats` times by default.
    public let isSlow: Bool
    let setup: () throws -> () -> Void

    /// Default minimum timed repetitions: of a fast workload, and of a slow one.
    public static let defaultRepeats = 10, slowRepeats = 3

    init(name: String, flops: Double?, isSlow: Bool = false, setup: @escaping () throws -> () -> Void) {
        self.name = name; self.flops = flops; self.isSlow = isSlow; self.setup = setup
    }

    /// The median and minimum of one workload.
    public struct Result: Codable, Sendable {
        public let name: String
        public let medianMs: Double
        public let minMs: Double
        public let repeats: Int
        public let gflops: Double?
    }

    /// What `ntt bench --json` prints.
    public struct Report: Codable, Sendable {
        public let benchmarks: [Result]
        public let threads: Int
        public let peakMemoryMb: Double?
        public let tool: String

        public init(benchmarks: [Result], threads: Int, peakMemoryMb: Double?, tool: String) {
            self.benchmarks = benchmarks; self.threads = threads; self.peakMemoryMb = peakMemoryMb; self.tool = tool
        }
    }

    /// Times the workload: warm up for at least 0.3 s (caches, worker threads, CPU clocks), then
    /// time at least `repeats` runs (by default `defaultRepeats`, or `slowRepeats` for a slow
    /// workload) and at least one second in total.
    public func measure(repeats: Int? = nil) throws -> Result {
        let repeats = repeats ?? (isSlow ? Self.slowRepeats : Self.defaultRepeats)
        let body = try setup()
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
        return Result(name: name, medianMs: (median * 1000).rounded() / 1000, minMs: (times[0] * 1000).rounded() / 1000,
                      repeats: times.count, gflops: flops.map { ($0 / (median * 1e6) * 10).rounded() / 10 })
    }

    /// The workloads whose names contain `filter`; without one, all but the slow ones. An error
    /// lists the names.
    public static func selected(_ filter: String?) throws -> [Benchmark] {
        let selected = all.filter { filter.map($0.name.contains) ?? !$0.isSlow }
        guard !selected.isEmpty else {
            let names = all.map(\.name).joined(separator: ", ")
            throw NTTError("--filter '\(filter ?? "")' matches no benchmark; names: \(names)")
        }
        return selected
    }

    /// VmHWM from /proc/self/status.
    public static func peakMemoryMB() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb / 1024
    }
}
