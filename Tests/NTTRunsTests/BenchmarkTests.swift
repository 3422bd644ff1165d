import Testing
@testable import NTTRuns

struct BenchmarkTests {
    @Test func plainRunLeavesOutTheSlowConv4Workloads() throws {
        let names = try Benchmark.selected(nil).map(\.name)
        #expect(names.contains("ntt-step/lenet5-caffe") && !names.contains { $0.contains("conv4") })
        #expect(try Benchmark.selected("conv4").map(\.name) == ["ntk/conv4", "ntt-step/conv4"])
        #expect(try Benchmark.selected("conv4").allSatisfy(\.isSlow))
        #expect(throws: (any Error).self) { try Benchmark.selected("no-such-workload") }
    }

    /// A workload reports the GEMM work of one run (at least its own product's: tests running
    /// alongside may add theirs), rounded to 4 significant digits.
    @Test func reportsTheGemmWorkPerRun() throws {
        let result = try Benchmark.gemm("gemm/test", m: 64, n: 48, k: 40).measure(repeats: 1)
        #expect(result.gemmGflop >= 2 * 64 * 48 * 40 / 1e9 - 1e-10)
        #expect(result.gflops != nil && result.repeats >= 1)
        #expect(Benchmark.significant(0.000245_76, digits: 4) == 0.0002458)
        #expect(Benchmark.significant(33.2345, digits: 4) == 33.23)
        #expect(Benchmark.significant(0, digits: 4) == 0)
    }

    /// `ntt bench --json` carries the handoff times under `handoff_us`, and leaves them out on one thread.
    @Test func reportCarriesTheHandoffTimes() throws {
        func json(_ handoff: [Double]?) throws -> String {
            let report = Benchmark.Report(benchmarks: [], threads: 2, peakMemoryMb: nil, tool: "ntt",
                                          handoffUs: handoff)
            return String(decoding: try RunJSON.lineEncoder.encode(report), as: UTF8.self)
        }
        #expect(try json([0.25, 1.5]).contains("\"handoff_us\":[0.25,1.5]"))
        #expect(try !json(nil).contains("handoff"))
    }
}
