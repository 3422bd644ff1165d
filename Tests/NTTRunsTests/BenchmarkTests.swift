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
}
