import Foundation
import Testing
@testable import NeuralTangentTransfer

struct SafeTensorsTests {
    static func path(_ name: String = "t") -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).safetensors").path
    }

    static let tensors: [(name: String, tensor: Tensor)] = [
        ("layers.0.weight", Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, 1e-8, -7])),
        ("layers.0.bias", Tensor(shape: [3], scalars: [0.5, 0, -0.5])),
        ("scalar", Tensor(shape: [], scalars: [42])),
    ]

    @Test func roundTripsWithMetadataAndDeterministicBytes() throws {
        let a = Self.path(), b = Self.path()
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        try SafeTensors.write(Self.tensors, metadata: ["model": "dense(3)", "quote": "a \"b\" \\ c"], to: a)
        try SafeTensors.write(Self.tensors, metadata: ["quote": "a \"b\" \\ c", "model": "dense(3)"], to: b)
        #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
        let file = try SafeTensors.read(a)
        #expect(file.names == Self.tensors.map(\.name))
        for (name, t) in Self.tensors {
            #expect(file.tensors[name]!.shape == t.shape && file.tensors[name]!.scalars == t.scalars)
        }
        #expect(file.metadata == ["model": "dense(3)", "quote": "a \"b\" \\ c"])
        // Layout: u64 little-endian header length, a JSON header padded to 8 bytes, then data.
        let data = FileManager.default.contents(atPath: a)!
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0 && data.count == 8 + n + (6 + 3 + 1) * 4)
        #expect(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) is [String: Any])
    }

    /// A file as another writer would make it: given header and raw data bytes.
    static func handMade(header: String, body: [UInt8]) -> Data {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var d = Data()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { d.append(contentsOf: $0) }
        return d + Data(h) + Data(body)
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    /// A file with one tensor "a" over 8 zero data bytes; `fields` are its shape and offsets.
    static func oneTensor(_ fields: String, dtype: String = "F32") -> Data {
        handMade(header: #"{"a":{"dtype":""# + dtype + #"","# + fields + "}}", body: Array(repeating: 0, count: 8))
    }

    @Test func convertsF64AndF16ToFloat32() throws {
        let p = Self.path()
        defer { try? FileManager.default.removeItem(atPath: p) }
        let f64: [Double] = [1.25, -3], f16: [Float16] = [0.5, 2, -1]
        let header = #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]}}"#
        try Self.handMade(header: header, body: Self.bytes(f64) + Self.bytes(f16)).write(to: URL(fileURLWithPath: p))
        let file = try SafeTensors.read(p)
        #expect(file.tensors["a"]!.scalars == [1.25, -3] && file.tensors["b"]!.scalars == [0.5, 2, -1])
    }

    @Test func corruptFilesGiveOneLineReasons() throws {
        let p = Self.path()
        defer { try? FileManager.default.removeItem(atPath: p) }
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "shorter than its 8-byte header length"),
            (Self.handMade(header: "{}", body: []).prefix(12), "exceeds the file size"),
            (Self.handMade(header: "[1]", body: []), "not a JSON object"),
            (Self.handMade(header: #"{"a":{"dtype":"F32","shape":[2]}}"#, body: []),
             "lacks dtype, shape or data_offsets"),
            (Self.handMade(header: #"{"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}"#, body: [0, 0]),
             "dtype I8"),
            (Self.handMade(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                           body: Array(repeating: 0, count: 8)), "do not fit"),
            (Self.handMade(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                           body: Array(repeating: 0, count: 4)), "do not fit"),
            (Self.handMade(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                               + #""b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                           body: Array(repeating: 0, count: 8)), "overlap"),
            (Self.handMade(header: #"{"__metadata__":{"a":1}}"#, body: []), "__metadata__ must map strings to strings"),
            // Hostile sizes (reached by `ntt train --init FILE` and `ntt kernel --checkpoint FILE`): the
            // element count overflows Int, or is merely far larger than the file.
            (Self.oneTensor(#""shape":[4294967296,4294967296,16],"data_offsets":[0,8]"#),
             "shape [4294967296, 4294967296, 16], more elements than"),
            (Self.oneTensor(#""shape":[1000000000],"data_offsets":[0,4000000000]"#),
             "more elements than the file's 8 data bytes hold"),
            (Self.oneTensor(#""shape":[2,-1],"data_offsets":[0,8]"#), "negative dimension"),
            (Self.oneTensor(#""shape":[1],"data_offsets":[-4,0]"#), "do not fit"),
            (Self.oneTensor(#""shape":[1],"data_offsets":[9223372036854775800,9223372036854775804]"#), "do not fit"),
            (Self.oneTensor(#""shape":[1.5],"data_offsets":[0,4]"#), "lacks dtype, shape or data_offsets"),
            (Self.oneTensor(#""shape":[1],"data_offsets":[0,8]"#, dtype: "I64"), "dtype I64; expected F32"),
        ]
        for (data, reason) in cases {
            try data.write(to: URL(fileURLWithPath: p))
            #expect { try SafeTensors.read(p) } throws: { error in
                let d = "\(error)"
                return d.contains(p) && d.contains(reason) && !d.contains("\n")
            }
        }
        #expect { try SafeTensors.write([("a", Tensor(shape: [1], scalars: [1])),
                                         ("a", Tensor(shape: [1], scalars: [2]))], to: p) }
            throws: { "\($0)".contains("duplicate tensor name 'a'") }
    }

    @Test func checkpointLoadingNamesEveryDifference() throws {
        let p = Self.path()
        defer { try? FileManager.default.removeItem(atPath: p) }
        let model = try Model(spec: ModelSpec.resolve("dense(3),relu,dense(2)", classes: 2), imageShape: [1, 1, 4])
        try SafeTensors.write([("layers.0.weight", Tensor.zeros([4, 3])), ("layers.0.bias", Tensor.zeros([3])),
                               ("layers.1.weight", Tensor.zeros([3, 5])), ("extra", Tensor.zeros([1]))], to: p)
        #expect { try ModelCheckpoint.load(p, model: model) } throws: { error in
            let d = "\(error)"
            return d.contains("missing layers.1.bias") && d.contains("unexpected extra")
                && d.contains("layers.1.weight has shape [3, 5], expected [3, 2]")
        }
        var good: [(name: String, tensor: Tensor)] = [
            ("layers.0.weight", Tensor.zeros([4, 3])), ("layers.0.bias", Tensor.zeros([3])),
            ("layers.0.mask", Tensor.ones([4, 3])), ("layers.1.weight", Tensor.zeros([3, 2])),
            ("layers.1.bias", Tensor.zeros([2])), ("layers.1.mask", Tensor.ones([3, 2]))
        ]
        try SafeTensors.write(good, to: p)
        #expect(try ModelCheckpoint.load(p, model: model).masks?.count == 2)
        good[5].tensor = Tensor(shape: [3, 2], scalars: [1, 0, 0.5, 1, 1, 1])
        try SafeTensors.write(good, to: p)
        #expect { try ModelCheckpoint.load(p, model: model) } throws: {
            "\($0)".contains("layers.1.mask has values other than 0 and 1")
        }
        good[5].tensor = Tensor.ones([3, 2])
        good[1].tensor = Tensor(shape: [3], scalars: [0, .nan, 0])
        try SafeTensors.write(good, to: p)
        #expect { try ModelCheckpoint.load(p, model: model) } throws: { "\($0)".contains("layers.0.bias contains NaN") }
    }

    // MARK: Interoperability with the reference implementation (only where Python has safetensors).

    static let python: String? = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import numpy, safetensors"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? "python3" : nil
    }()

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("scripts/safetensors_interop.py").path
    }

    static func runScript(_ arguments: [String]) throws -> String {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script] + arguments
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test(.enabled(if: python != nil, "needs python3 with numpy and safetensors"))
    func interoperatesWithPythonSafetensors() throws {
        let ours = Self.path(), theirs = Self.path()
        defer { try? FileManager.default.removeItem(atPath: ours); try? FileManager.default.removeItem(atPath: theirs) }
        try SafeTensors.write(Self.tensors, metadata: ["model": "dense(3)"], to: ours)
        let summary = try JSONSerialization.jsonObject(with: Data(try Self.runScript(["read", ours]).utf8))
            as! [String: Any]
        #expect(summary["metadata"] as? [String: String] == ["model": "dense(3)"])
        let read = summary["tensors"] as! [String: [String: Any]]
        for (name, t) in Self.tensors {
            #expect(read[name]?["shape"] as? [Int] == t.shape)
            #expect(abs((read[name]?["sum"] as? Double ?? .nan) - Double(t.scalars.reduce(0, +))) < 1e-6)
        }
        _ = try Self.runScript(["write", theirs])
        let file = try SafeTensors.read(theirs)
        #expect(file.tensors["layers.0.weight"]!.shape == [3, 4]
                && file.tensors["layers.0.weight"]!.scalars == (0..<12).map { Float($0) / 8 })
        #expect(file.tensors["layers.0.bias"]!.scalars == [1.5, -2, 0.25, 3])
        #expect(file.tensors["layers.0.mask"]!.scalars == Array([1, 0, 1, 0].map(Float.init).repeated(3)))
        #expect(file.metadata["written_by"] == "python")
    }
}

extension Array {
    func repeated(_ n: Int) -> [Element] { (0..<n).flatMap { _ in self } }
}
