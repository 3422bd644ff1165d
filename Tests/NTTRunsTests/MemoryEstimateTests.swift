import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

/// The estimates must let every real run through (measured peaks: LeNet-5 transfer step well
/// under 1 GB, Conv-4 about 3 GB) and stop absurd ones before they allocate.
struct MemoryEstimateTests {
    static func model(_ spec: String, _ image: [Int]) throws -> Model {
        try Model(spec: ModelSpec.resolve(spec, classes: 10), imageShape: image)
    }

    @Test func realRunsFitAndAbsurdOnesDoNot() throws {
        let gb = 1e9
        let lenet5 = try Self.model("lenet5-caffe", [28, 28, 1])
        #expect(MemoryEstimate.transferStep(lenet5, batch: 64) < 4 * gb)
        #expect(MemoryEstimate.trainingStep(lenet5, batch: 64) < 1 * gb)
        let conv4 = try Self.model("conv(64,3),relu,conv(64,3),relu,maxpool(2),conv(128,3),relu,conv(128,3),relu,"
                                   + "maxpool(2),flatten,dense(512),relu,dense(10)", [32, 32, 3])
        let conv4Step = MemoryEstimate.transferStep(conv4, batch: 64)
        #expect(conv4Step > 1 * gb && conv4Step < 20 * gb, "\(conv4Step / gb) GB")
        let mlp = try Self.model("lenet-300-100", [28, 28, 1])
        #expect(MemoryEstimate.transferStep(mlp, batch: 64) < 1 * gb)
        #expect(MemoryEstimate.transferStep(mlp, batch: 20_000) > 100 * gb)
        #expect(MemoryEstimate.kernel(mlp, n1: 10_000, n2: 10_000) > 30 * gb)
        #expect(throws: NTTError.self) {
            try MemoryEstimate.check(MemoryEstimate.kernel(mlp, n1: 10_000, n2: 10_000), what: "k", lower: "--count")
        }
        try MemoryEstimate.check(MemoryEstimate.transferStep(lenet5, batch: 64), what: "t", lower: "--batch-size")
    }
}
