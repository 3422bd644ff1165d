import Foundation
import Testing
@testable import NeuralTangentTransfer

/// IDX and CIFAR-10 readers, the dataset loader, standardisation, splits and batch order.
struct DataTests {
    static func folder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func bigEndian(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
    static func idxImages(_ pixels: [[UInt8]], h: Int, w: Int) -> Data {
        Data(bigEndian(0x0803) + bigEndian(pixels.count) + bigEndian(h) + bigEndian(w) + pixels.flatMap { $0 })
    }
    static func idxLabels(_ labels: [UInt8]) -> Data { Data(bigEndian(0x0801) + bigEndian(labels.count) + labels) }

    static func gzip(_ url: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-f", url.path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func readsRawAndGzippedIDX() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("img"), labels = dir.appendingPathComponent("lab")
        try Self.idxImages([[0, 255, 51, 102, 0, 0], [255, 255, 255, 0, 0, 0]], h: 2, w: 3).write(to: images)
        try Self.idxLabels([3, 7]).write(to: labels)
        let raw = try IDXReader.images(images.path)
        #expect(raw.shape == [2, 2, 3, 1] && raw.scalars[1] == 1 && raw.scalars[2] == 0.2 && raw.scalars[6] == 1)
        #expect(try IDXReader.labels(labels.path) == [3, 7])
        try Self.gzip(images)
        let gz = try IDXReader.images(images.path + ".gz")
        #expect(gz.shape == raw.shape && gz.scalars == raw.scalars)
    }

    @Test func rejectsCorruptIDXWithTheFileAndTheReason() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        func expectError(_ data: Data, images: Bool = true, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let url = dir.appendingPathComponent("f-\(UUID().uuidString)")
            try data.write(to: url)
            #expect(sourceLocation: sourceLocation) {
                if images { _ = try IDXReader.images(url.path) } else { _ = try IDXReader.labels(url.path) }
            } throws: { "\($0)".contains(url.path) && "\($0)".contains(message) }
        }
        let good = Self.idxImages([[1, 2, 3, 4]], h: 2, w: 2)
        try expectError(good.dropLast(1), "truncated")
        try expectError(good + Data([0]), "truncated or corrupt")
        try expectError(Data(good.prefix(10)), "too short")
        try expectError(Self.idxLabels([UInt8](repeating: 1, count: 12)), "not an IDX image file")
        try expectError(Self.idxImages([[1]], h: 1, w: 1), images: false, "not an IDX label file")
        try expectError(Self.idxLabels([1, 2]).dropLast(1), images: false, "truncated")
        // A gzip stream cut short.
        let gz = dir.appendingPathComponent("cut")
        try good.write(to: gz)
        try Self.gzip(gz)
        let whole = try Data(contentsOf: URL(fileURLWithPath: gz.path + ".gz"))
        try expectError(whole.prefix(whole.count / 2), "corrupt")
        #expect { try IDXReader.images(dir.appendingPathComponent("missing").path) } throws: { "\($0)".contains("cannot read") }
    }

    @Test func loaderFindsFilesStandardisesAndExplainsWhatIsMissing() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train: [[UInt8]] = [[0, 0, 0, 0], [255, 255, 255, 255], [0, 255, 0, 255]]
        try Self.idxImages(train, h: 2, w: 2).write(to: dir.appendingPathComponent("train-images-idx3-ubyte"))
        try Self.idxLabels([0, 1, 2]).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte"))
        try Self.idxImages([[255, 0, 0, 0]], h: 2, w: 2).write(to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
        #expect { try DatasetLoader.load("mnist", dataDirectory: dir.path) } throws: {
            "\($0)".contains("t10k-labels-idx1-ubyte(.gz) not found in \(dir.path)")
        }
        try Self.idxLabels([1]).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
        try Self.gzip(dir.appendingPathComponent("t10k-labels-idx1-ubyte"))  // mixed raw and gzipped files are fine
        let d = try DatasetLoader.load("mnist", dataDirectory: dir.path)
        #expect(d.classes == 3 && d.train.count == 3 && d.test.labels == [1] && d.imageShape == [2, 2, 1])
        // Training pixels: mean 0.5, std 0.5 (population) → standardised to ±1; test uses the same statistics.
        let x = d.train.images.scalars
        let mean = x.reduce(0, +) / Float(x.count)
        let std = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(x.count)).squareRoot()
        #expect(abs(mean) < 1e-6 && abs(std - 1) < 1e-5)
        #expect(d.test.images.scalars == [1, -1, -1, -1])
        #expect { try DatasetLoader.load("kmnist") } throws: { "\($0)".contains("--data-dir") }
    }

    @Test func cifarReaderChecksRecords() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        func record(label: UInt8, value: UInt8) -> [UInt8] { [label] + [UInt8](repeating: value, count: 3072) }
        for i in 1...5 { try Data(record(label: UInt8(i), value: UInt8(i * 10)) + record(label: 0, value: 0)).write(to: dir.appendingPathComponent("data_batch_\(i).bin")) }
        try Data(record(label: 9, value: 255)).write(to: dir.appendingPathComponent("test_batch.bin"))
        let d = try DatasetLoader.load("cifar10", dataDirectory: dir.path)
        #expect(d.train.count == 10 && d.test.labels == [9] && d.imageShape == [32, 32, 3] && d.classes == 10)
        try Data(record(label: 1, value: 1).dropLast(5)).write(to: dir.appendingPathComponent("test_batch.bin"))
        #expect { try DatasetLoader.load("cifar10", dataDirectory: dir.path) } throws: { "\($0)".contains("not a whole number of 3073-byte") }
        try Data(record(label: 12, value: 1)).write(to: dir.appendingPathComponent("test_batch.bin"))
        #expect { try DatasetLoader.load("cifar10", dataDirectory: dir.path) } throws: { "\($0)".contains("label 12") }
    }

    @Test func splitAndBatchOrderAreSeededAndExact() {
        let d = SyntheticDataset.make(SyntheticDataset.Options())
        let (t1, v1) = d.train.split(validationFraction: 0.1, seed: 3)
        let (_, v2) = d.train.split(validationFraction: 0.1, seed: 3)
        let (_, v3) = d.train.split(validationFraction: 0.1, seed: 4)
        #expect(v1.count == 205 && t1.count == d.train.count - 205)
        #expect(v1.labels == v2.labels && v1.images.scalars == v2.images.scalars)
        #expect(v1.images.scalars != v3.images.scalars)
        var a = BatchOrder(count: 10, batchSize: 3, seed: 1), b = a
        let epoch = (0..<3).flatMap { _ in a.next() }
        #expect(Set(epoch).count == 9 && a.batchesPerEpoch == 3)  // one epoch: no repeats, the remainder dropped
        let next = a.next()
        #expect(a.epoch == 1 && next.count == 3)
        for _ in 0..<4 { _ = b.next() }
        #expect(a == b)
        // Restored from its saved numbers, the order continues identically.
        var restored = try! JSONDecoder().decode(BatchOrder.self, from: JSONEncoder().encode(a))
        #expect(restored.next() == a.next())
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: DatasetName.fashionMNISTSystemDirectory)))
    func fashionMNISTFromDebian() throws {
        let d = try DatasetLoader.load("fashion-mnist")
        #expect(d.train.count == 60_000 && d.test.count == 10_000 && d.classes == 10 && d.imageShape == [28, 28, 1])
    }
}
