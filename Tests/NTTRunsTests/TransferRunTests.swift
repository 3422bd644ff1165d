import Foundation
import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

/// The transfer loop end to end on small synthetic data: files, records, and exact resume.
struct TransferRunTests {
    static func dataset() -> Dataset {
        var o = SyntheticDataset.Options()
        o.imageShape = [6, 6, 1]; o.classes = 3; o.trainCount = 1200; o.testCount = 50
        return DatasetLoader.standardised(SyntheticDataset.make(o))
    }

    static func config() -> TransferConfig {
        var c = TransferConfig()
        c.model = "dense(12),relu,dense(3)"
        c.dataset = "synthetic"
        c.density = 0.3
        c.iterations = 25
        c.batchSize = 8
        c.maskUpdateEvery = 10
        c.recordEvery = 10
        c.validationFraction = 0.02
        c.seed = 5
        return c
    }

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ntt-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let outputs = ["config.json", "metrics.jsonl", "student.safetensors", "teacher.safetensors",
                          "probe.safetensors"]

    @Test func writesRecordsAndFiles() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try TransferRun(config: Self.config(), dataset: Self.dataset(), folder: RunFolder(dir))
        #expect(try run.run() == .finished)
        for f in Self.outputs {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoint.safetensors").path))
        let records = try RunFolder(dir).readMetrics(TransferRecord.self)
        #expect(records.map(\.iteration) == [0, 10, 20, 25])
        #expect(records.last!.ntkDistance < records.first!.ntkDistance)
        let student = try SafeTensors.read(dir.appendingPathComponent("student.safetensors").path)
        let masks = (0..<2).map { student.tensors[TensorNames.mask($0)]! }
        #expect(MaskSelection.keptCounts(masks) == [Int((0.3 * 36 * 12).rounded()), Int((0.3 * 12 * 3).rounded())])
        // Saved weights are the masked weights.
        for i in 0..<2 {
            let w = student.tensors[TensorNames.weight(i)]!
            #expect(zip(w.scalars, masks[i].scalars).allSatisfy { $1 == 1 || $0 == 0 })
        }
        // The last record describes the saved student: recompute it from the files.
        let probe = try SafeTensors.read(dir.appendingPathComponent("probe.safetensors").path).tensors["x"]!
        let teacherFile = try SafeTensors.read(dir.appendingPathComponent("teacher.safetensors").path)
        let model = run.model
        let params = (0..<2).map {
            LayerParameters(weight: student.tensors[TensorNames.weight($0)]!,
                            bias: student.tensors[TensorNames.bias($0)]!)
        }
        let teacher = (0..<2).map {
            LayerParameters(weight: teacherFile.tensors[TensorNames.weight($0)]!,
                            bias: teacherFile.tensors[TensorNames.bias($0)]!)
        }
        let x1 = probe.slice(rows: 0..<4), x2 = probe.slice(rows: 4..<8)
        let loss = TransferLoss(lambdaKernel: 1e-3, lambdaL2: 1e-4, density: 0.3)
        let terms = withoutDerivatives {
            loss.evaluate(model: model, parameters: params, masks: masks, x1: x1, x2: x2,
                          targets: .teacher(model: model, parameters: teacher, x1: x1, x2: x2))
        }
        #expect(abs(Double(terms.ntkDistance.scalar) - records.last!.ntkDistance)
                <= 1e-6 * max(1, records.last!.ntkDistance))
    }

    /// A resumed run's time counts on from its checkpoint's (what `ntt experiment` reports for a
    /// transfer cell), not from zero.
    @Test func resumedRunCountsTheTimeBeforeItsCheckpoint() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = Self.dataset()
        #expect(try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(dir)).run(stopAfter: 13)
                == .interrupted(atIteration: 13))
        let meta = try SafeTensors.read(dir.appendingPathComponent(TransferRun.checkpointName).path).metadata
        let saved = try #require(meta["seconds"].flatMap(Double.init))
        #expect(saved > 0)
        var seconds: [Double] = [], distances: [Double] = []
        #expect(try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(dir))
                    .run(resume: true) { seconds.append($0.seconds); distances.append($0.ntkDistance) } == .finished)
        #expect(seconds.first! >= saved)
        // The first progress report of the resumed run carries the last recorded distance (was nan).
        #expect(distances.first!.isFinite)
        #expect(zip(seconds, seconds.dropFirst()).allSatisfy { $0 <= $1 })
    }

    /// A corrupt record in the part of metrics.jsonl that the checkpoint has seen stops the resumed run
    /// before the file is cut back to that part: the file is left exactly as it was.
    @Test func resumeRefusesCorruptMetricsWithoutTouchingThem() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = Self.dataset()
        #expect(try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(dir)).run(stopAfter: 13)
                == .interrupted(atIteration: 13))
        let url = dir.appendingPathComponent(RunFolder.metricsName)
        let corrupt = Data("garbage\n".utf8) + (try Data(contentsOf: url))
        try corrupt.write(to: url)
        #expect(throws: NTTError.self) {
            try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(dir)).run(resume: true)
        }
        #expect(try Data(contentsOf: url) == corrupt)
    }

    /// For every `--pruned-updates` mode (masks re-chosen at 10 and 20, the stop at 13 between).
    @Test(arguments: PrunedUpdates.allCases)
    func interruptedAndResumedRunEqualsUninterrupted(mode: PrunedUpdates) throws {
        let a = Self.temporaryDirectory(), b = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let data = Self.dataset()
        var c = Self.config()
        c.prunedUpdates = mode
        #expect(try TransferRun(config: c, dataset: data, folder: RunFolder(a)).run() == .finished)
        let outcome = try TransferRun(config: c, dataset: data, folder: RunFolder(b)).run(stopAfter: 13)
        #expect(outcome == .interrupted(atIteration: 13))
        #expect(FileManager.default.fileExists(atPath: b.appendingPathComponent("checkpoint.safetensors").path))
        #expect(!FileManager.default.fileExists(atPath: b.appendingPathComponent("student.safetensors").path))
        #expect(try TransferRun(config: c, dataset: data, folder: RunFolder(b)).run(resume: true) == .finished)
        let config = try String(contentsOf: a.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(config.contains("\"pruned_updates\" : \"\(mode.rawValue)\""))
        for f in Self.outputs {
            let x = try Data(contentsOf: a.appendingPathComponent(f))
            let y = try Data(contentsOf: b.appendingPathComponent(f))
            #expect(x == y, "\(f) differs after resume")
        }
    }

    @Test func resumeRejectsChangedSettings() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = Self.dataset()
        _ = try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(dir)).run(stopAfter: 5)
        var changed = Self.config()
        changed.learningRate = 1e-2
        #expect(throws: NTTError.self) {
            try TransferRun(config: changed, dataset: data, folder: RunFolder(dir)).run(resume: true)
        }
    }

    /// Rewrites one metadata field of a safetensors file (the data section is unchanged; its
    /// offsets are relative to it).
    static func editMetadata(_ url: URL, _ key: String, _ value: String) throws {
        let bytes = try Data(contentsOf: url)
        let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + length))) as! [String: Any]
        var meta = header["__metadata__"] as! [String: String]
        meta[key] = value
        header["__metadata__"] = meta
        let json = try JSONSerialization.data(withJSONObject: header)
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(bytes.subdata(in: (8 + length)..<bytes.count))
        try out.write(to: url)
    }

    /// A checkpoint written before a setting existed (here `pruned_updates`) resumes with the
    /// setting's default, to the same files as an uninterrupted run.
    @Test func checkpointWithoutANewerSettingResumes() throws {
        let a = Self.temporaryDirectory(), b = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let data = Self.dataset()
        #expect(try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(a)).run() == .finished)
        _ = try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(b)).run(stopAfter: 13)
        var old = try JSONSerialization.jsonObject(with: RunJSON.encoder.encode(Self.config())) as! [String: Any]
        #expect(old.removeValue(forKey: "pruned_updates") != nil)
        let text = String(decoding: try JSONSerialization.data(withJSONObject: old), as: UTF8.self)
        try Self.editMetadata(b.appendingPathComponent("checkpoint.safetensors"), "config", text)
        #expect(try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(b)).run(resume: true)
                == .finished)
        for f in Self.outputs {
            #expect(try Data(contentsOf: a.appendingPathComponent(f)) == Data(contentsOf: b.appendingPathComponent(f)))
        }
    }

    /// A hand-edited checkpoint is refused with a one-line error naming it; nothing is written.
    @Test func checkpointFieldsAreCheckedAgainstTheRun() throws {
        let data = Self.dataset()
        let cases: [(String, String)] = [
            ("metrics_bytes", "-5"), ("metrics_bytes", "1000000000"), ("iteration", "999999"), ("iteration", "-5"),
            ("batch_order", #"{"batch_size":8,"count":1000,"epoch":0,"position":1000000,"seed":5}"#),
            ("batch_order", #"{"batch_size":0,"count":1000,"epoch":0,"position":0,"seed":5}"#),
        ]
        for (key, value) in cases {
            let dir = Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            _ = try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(dir)).run(stopAfter: 13)
            let checkpoint = dir.appendingPathComponent("checkpoint.safetensors")
            try Self.editMetadata(checkpoint, key, value)
            let metrics = try Data(contentsOf: dir.appendingPathComponent("metrics.jsonl"))
            #expect {
                try TransferRun(config: Self.config(), dataset: data, folder: RunFolder(dir)).run(resume: true)
            } throws: { error in
                "\(error)".contains("checkpoint.safetensors") && !"\(error)".contains("\n")
            }
            #expect(try Data(contentsOf: dir.appendingPathComponent("metrics.jsonl")) == metrics, "\(key)=\(value)")
        }
    }

    /// The loop follows ntt.py: no mask update in the last `maskUpdateEvery` iterations (strictly
    /// before total − F), an epoch of ⌈N/B⌉ iterations, one validation split for every seed.
    @Test func loopFollowsTheOriginal() throws {
        let data = Self.dataset()
        var c = Self.config()
        c.iterations = 30
        let whole = Self.temporaryDirectory(), stopped = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: stopped) }
        #expect(try TransferRun(config: c, dataset: data, folder: RunFolder(whole)).run() == .finished)
        _ = try TransferRun(config: c, dataset: data, folder: RunFolder(stopped)).run(stopAfter: 10)
        // Masks are updated at 10 and not at 20 = 30 − 10: the final masks are those of iteration 10.
        let final = try SafeTensors.read(whole.appendingPathComponent("student.safetensors").path)
        let atTen = try SafeTensors.read(stopped.appendingPathComponent("checkpoint.safetensors").path)
        for i in 0..<2 {
            #expect(final.tensors[TensorNames.mask(i)]!.scalars == atTen.tensors[TensorNames.mask(i)]!.scalars)
        }
        c.iterations = nil
        c.epochs = 2
        c.batchSize = 10
        let run = try TransferRun(config: c, dataset: data, folder: RunFolder(whole))
        #expect(run.data.count % 10 != 0 && run.totalIterations == 2 * ((run.data.count + 9) / 10))
        var other = c
        other.seed = 9
        let probeA = try TransferRun(config: c, dataset: data, folder: RunFolder(whole)).probe
        let probeB = try TransferRun(config: other, dataset: data, folder: RunFolder(whole)).probe
        #expect(probeA.scalars == probeB.scalars)
    }

    /// Plain SGD (the original's other optimiser) runs, learns, and resumes to the same bytes.
    @Test func sgdTransferResumesExactly() throws {
        let data = Self.dataset()
        var c = Self.config()
        c.optimizer = .sgd
        c.learningRate = 1e-2
        let a = Self.temporaryDirectory(), b = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        #expect(try TransferRun(config: c, dataset: data, folder: RunFolder(a)).run() == .finished)
        _ = try TransferRun(config: c, dataset: data, folder: RunFolder(b)).run(stopAfter: 13)
        #expect(try TransferRun(config: c, dataset: data, folder: RunFolder(b)).run(resume: true) == .finished)
        for f in Self.outputs {
            let x = try Data(contentsOf: a.appendingPathComponent(f))
            let y = try Data(contentsOf: b.appendingPathComponent(f))
            #expect(x == y, "\(f)")
        }
        let records = try RunFolder(a).readMetrics(TransferRecord.self)
        #expect(records.last!.transferLoss < records.first!.transferLoss)
    }
}
