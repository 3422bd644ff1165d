import Foundation
import Testing

/// Sizes no machine can serve, and models that cannot fit the data, are refused before any
/// work with one line naming the flag: never a trap, an allocation failure or a NaN result.
struct HostileSizeTests {
    typealias CLI = CommandLineTests

    /// A safetensors file of F32 tensors (name, shape, a value repeated with alternating signs).
    static func writeSafetensors(_ tensors: [(String, [Int], Float)], metadata: [String: String],
                                 to path: String) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var data = Data()
        for (name, shape, value) in tensors {
            let count = shape.reduce(1, *)
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [data.count, data.count + 4 * count]]
            for i in 0..<count {
                let v = i % 2 == 0 ? value : -value
                withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        let json = try JSONSerialization.data(withJSONObject: header)
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(data)
        try file.write(to: URL(fileURLWithPath: path))
    }

    @Test func absurdSizesAreRefusedUpFront() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = ["--dataset", "synthetic"]
        for model in ["dense(9223372036854775807)", "dense(100000000)", "conv(100000,3),relu,flatten,dense(10)"] {
            try CLI.expectCleanFailure(["transfer", "--model", model, "--out", dir + "/t"] + data,
                                       mentions: "GB of memory")
            try CLI.expectCleanFailure(["train", "--init", "random", "--model", model, "--out", dir + "/r"] + data,
                                       mentions: "GB of memory")
            try CLI.expectCleanFailure(["prune", "--method", "snip", "--model", model, "--out", dir + "/p"] + data,
                                       mentions: "GB of memory")
        }
        try CLI.expectCleanFailure(["transfer", "--batch-size", "20000", "--out", dir + "/t"] + data,
                                   mentions: "--batch-size")
        // Fewer outputs than classes cannot be trained with labels.
        let small = ["--model", "dense(50),relu,dense(5)"] + data
        try CLI.expectCleanFailure(["train", "--init", "random", "--out", dir + "/r"] + small, mentions: "5 outputs")
        try CLI.expectCleanFailure(["prune", "--method", "snip", "--out", dir + "/p"] + small, mentions: "5 outputs")
        #expect((try FileManager.default.contentsOfDirectory(atPath: dir)).isEmpty)
    }

    @Test func kernelRefusesHugeCountsAndNonFiniteKernels() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = "dense(16),relu,dense(10)"
        let checkpoint = dir + "/huge.safetensors"
        try Self.writeSafetensors([("layers.0.weight", [784, 16], 3e38), ("layers.0.bias", [16], 0),
                                   ("layers.1.weight", [16, 10], 3e38), ("layers.1.bias", [10], 0)],
                                  metadata: ["model": model], to: checkpoint)
        try CLI.expectCleanFailure(["kernel", "--checkpoint", checkpoint, "--dataset", "synthetic", "--count", "4"],
                                   mentions: "NaN or infinite")
        if FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") {
            try CLI.expectCleanFailure(["kernel", "--checkpoint", checkpoint, "--count", "10000", "--pairs", "all"],
                                       mentions: "--count")
        }
    }

    /// An IDX file: big-endian magic and dimensions, then the bytes given.
    static func writeIDX(_ path: String, magic: UInt32, dimensions: [UInt32], body: [UInt8]) throws {
        var data = Data()
        for word in [magic] + dimensions { withUnsafeBytes(of: word.bigEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: body)
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Hostile files reach the readers through the commands users run: one line naming the file.
    @Test func hostileFilesThroughTheCommands() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // IDX: a header claiming 2³²−1 images of 2³²−1 × 2³²−1 pixels; then a label byte of 255.
        let idx = dir + "/idx"
        try FileManager.default.createDirectory(atPath: idx, withIntermediateDirectories: true)
        let pixels = [UInt8](repeating: 7, count: 2 * 28 * 28)
        for stem in ["train", "t10k"] {
            try Self.writeIDX("\(idx)/\(stem)-images-idx3-ubyte", magic: 0x803, dimensions: [2, 28, 28], body: pixels)
            try Self.writeIDX("\(idx)/\(stem)-labels-idx1-ubyte", magic: 0x801, dimensions: [2], body: [0, 1])
        }
        try Self.writeIDX(idx + "/train-images-idx3-ubyte", magic: 0x803,
                          dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], body: pixels)
        let train = ["train", "--init", "random", "--dataset", "mnist", "--data-dir", idx, "--iterations", "1"]
        try CLI.expectCleanFailure(train + ["--out", dir + "/a"], mentions: "train-images-idx3-ubyte")
        try Self.writeIDX(idx + "/train-images-idx3-ubyte", magic: 0x803, dimensions: [2, 28, 28], body: pixels)
        try Self.writeIDX(idx + "/train-labels-idx1-ubyte", magic: 0x801, dimensions: [2], body: [0, 255])
        try CLI.expectCleanFailure(train + ["--out", dir + "/b"], mentions: "train-labels-idx1-ubyte")
        // safetensors: a shape whose element count overflows, as --init and as --checkpoint.
        let bad = dir + "/overflow.safetensors"
        let header = #"{"layers.0.weight":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}}"#
        var file = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(Data(header.utf8))
        file.append(Data(count: 16))
        try file.write(to: URL(fileURLWithPath: bad))
        let model = ["--model", "dense(16),relu,dense(10)", "--dataset", "synthetic"]
        try CLI.expectCleanFailure(["train", "--init", bad, "--out", dir + "/c"] + model,
                                   mentions: "overflow.safetensors")
        try CLI.expectCleanFailure(["kernel", "--checkpoint", bad, "--count", "4"] + model,
                                   mentions: "overflow.safetensors")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["idx", "overflow.safetensors"])
    }
}
