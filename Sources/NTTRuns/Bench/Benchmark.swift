import Foundation
import NeuralTangentTransfer
import NTTKernels

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
        /// Floating-point operations in matrix products (OpenBLAS calls, 2·m·n·k each) per run,
        /// in GFLOP (4 significant digits): the work that sets a step's floor at the GEMM rate.
        public let gemmGflop: Double
    }

    /// What `ntt bench --json` prints.
    public struct Report: Codable, Sendable {
        public let benchmarks: [Result]
        public let threads: Int
        public let peakMemoryMb: Double?
        public let tool: String
        /// Microseconds for a job handed to a helper thread and back (`handoffMicroseconds`),
        /// measured before and after the workloads; nil on one thread. On a virtual machine it
        /// tells the host's phases apart: a few tenths of a µs when the two vCPUs share a die,
        /// several times more when they do not, and then small workloads run slower on two
        /// threads than on one.
        public let handoffUs: [Double]?

        public init(benchmarks: [Result], threads: Int, peakMemoryMb: Double?, tool: String,
                    handoffUs: [Double]? = nil) {
            self.benchmarks = benchmarks; self.threads = threads; self.peakMemoryMb = peakMemoryMb; self.tool = tool
            self.handoffUs = handoffUs
        }
    }

    /// `Parallel.handoffMicroseconds` with the caller's thread budget (nil on one thread),
    /// rounded to 3 significant digits.
    public static func handoffMicroseconds() -> Double? {
        Parallel.handoffMicroseconds().map { significant($0, digits: 3) }
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
        let multiplyAdds = Gemm.multiplyAdds.load(ordering: .relaxed)
        let start = clock()
        while times.count < repeats || (clock() - start < 1000 && times.count < 5000) {
            let t0 = clock()
            body()
            times.append(clock() - t0)
        }
        let gemm = 2 * Double(Gemm.multiplyAdds.load(ordering: .relaxed) &- multiplyAdds) / Double(times.count) / 1e9
        times.sort()
        let median = times[times.count / 2]
        return Result(name: name, medianMs: (median * 1000).rounded() / 1000, minMs: (times[0] * 1000).rounded() / 1000,
                      repeats: times.count, gflops: flops.map { ($0 / (median * 1e6) * 10).rounded() / 10 },
                      gemmGflop: Self.significant(gemm, digits: 4))
    }

    /// x rounded to `digits` significant digits (0 stays 0).
    static func significant(_ x: Double, digits: Int) -> Double {
        guard x != 0, x.isFinite else { return x }
        let scale = pow(10, Double(digits) - (log10(abs(x))).rounded(.down) - 1)
        return (x * scale).rounded() / scale
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
