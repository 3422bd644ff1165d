import Foundation
import Testing
@testable import NeuralTangentTransfer

/// IDX and CIFAR readers (with hostile files), the dataset loader and unions, standardisation,
/// splits and batch order.
struct DataTests {
    static func folder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func bigEndian(_ v: Int) -> [UInt8] {
        [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)]
    }
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
        #expect(try IDXReader.labels(labels.path, classes: 10) == [3, 7])
        try Self.gzip(images)
        let gz = try IDXReader.images(images.path + ".gz")
        #expect(gz.shape == raw.shape && gz.scalars == raw.scalars)
    }

    @Test func rejectsCorruptIDXWithTheFileAndTheReason() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        func expectError(_ data: Data, images: Bool = true, _ message: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
            let url = dir.appendingPathComponent("f-\(UUID().uuidString)")
            try data.write(to: url)
            #expect(sourceLocation: sourceLocation) {
                if images { _ = try IDXReader.images(url.path) } else {
                    _ = try IDXReader.labels(url.path, classes: 10)
                }
            } throws: { "\($0)".contains(url.path) && "\($0)".contains(message) && !"\($0)".contains("\n") }
        }
        let good = Self.idxImages([[1, 2, 3, 4]], h: 2, w: 2)
        try expectError(good.dropLast(1), "truncated")
        try expectError(good + Data([0]), "trailing data")
        try expectError(Data(good.prefix(10)), "too short")
        try expectError(Self.idxLabels([UInt8](repeating: 1, count: 12)), "not an IDX image file")
        try expectError(Self.idxImages([[1]], h: 1, w: 1), images: false, "not an IDX label file")
        try expectError(Self.idxLabels([1, 2]).dropLast(1), images: false, "truncated")
        // A gzip stream cut short.
        let gz = dir.appendingPathComponent("cut")
        try good.write(to: gz)
        try Self.gzip(gz)
        let whole = try Data(contentsOf: URL(fileURLWithPath: gz.path + ".gz"))
        try expectError(whole.prefix(whole.count / 2), "truncated")
        #expect { try IDXReader.images(dir.appendingPathComponent("missing").path) } throws: {
            "\($0)".contains("cannot read")
        }
    }

    /// Writes `data` to `dir/name`, gzipped when asked; returns the path.
    static func file(_ dir: URL, _ name: String, _ data: Data, gzipped: Bool = false) throws -> String {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        guard gzipped else { return url.path }
        try gzip(url)
        return url.path + ".gz"
    }

    static func expectOneLineError(_ path: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation,
                                   _ body: () throws -> Void) {
        #expect(sourceLocation: sourceLocation) { try body() } throws: {
            "\($0)".contains(path) && "\($0)".contains(message) && !"\($0)".contains("\n")
        }
    }

    @Test func hostileIDXSizesFailBeforeArithmeticOrAllocation() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Dimensions 0xFFFFFFFF: their product overflows Int; raw and gzipped (header inflated first).
        let huge = Data(Self.bigEndian(0x0803) + [UInt8](repeating: 0xff, count: 12) + [1, 2, 3])
        for gzipped in [false, true] {
            let path = try Self.file(dir, "huge-\(gzipped)", huge, gzipped: gzipped)
            Self.expectOneLineError(path, "implausible IDX dimensions 4294967295×4294967295×4294967295") {
                _ = try IDXReader.images(path)
            }
        }
        // 2^31 + 1 bytes declared: above the cap although it does not overflow.
        let big = Data([0x0803, 2, 1 << 15, (1 << 15) + 1].flatMap(Self.bigEndian))
        let bigPath = try Self.file(dir, "big", big, gzipped: true)
        Self.expectOneLineError(bigPath, "at most 2147483648 bytes") { _ = try IDXReader.images(bigPath) }
        // Plausible (60000 images of 28×28 = 47 MB) but far more than a few gzipped bytes can inflate to.
        let lie = Data([0x0803, 60000, 28, 28].flatMap(Self.bigEndian))
        let liePath = try Self.file(dir, "lie", lie, gzipped: true)
        Self.expectOneLineError(liePath, "gzipped bytes can hold") { _ = try IDXReader.images(liePath) }
        // A gzip bomb: a 1×2×2 header followed by 32 MB of zeros is inflated only up to the
        // declared 4 bytes and one more.
        let bomb = Self.idxImages([[1, 2, 3, 4]], h: 2, w: 2) + Data(count: 32 << 20)
        let bombPath = try Self.file(dir, "bomb", bomb, gzipped: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bombPath)).count < 100_000)
        Self.expectOneLineError(bombPath, "holds more than the 4 bytes of dimensions 1×2×2 (trailing data)") {
            _ = try IDXReader.images(bombPath)
        }
        // Fewer images than declared, gzipped.
        let short = Data([0x0803, 3, 2, 2].flatMap(Self.bigEndian) + [UInt8](repeating: 7, count: 8))
        let shortPath = try Self.file(dir, "short", short, gzipped: true)
        Self.expectOneLineError(shortPath, "ends after 8 of the 12 bytes of dimensions 3×2×2 (truncated)") {
            _ = try IDXReader.images(shortPath)
        }
        // Bytes after the gzip stream (the original files have none).
        let goodPath = try Self.file(dir, "good", Self.idxLabels([1, 2]), gzipped: true)
        let gzipped = try Data(contentsOf: URL(fileURLWithPath: goodPath))
        let padded = try Self.file(dir, "padded", gzipped + Data([0, 0, 0]))
        #expect(try IDXReader.labels(goodPath, classes: 10) == [1, 2])
        Self.expectOneLineError(padded, "3 bytes follow the end of the compressed data") {
            _ = try IDXReader.labels(padded, classes: 10)
        }
        // Zero images.
        let empty = try Self.file(dir, "empty", Self.idxImages([], h: 2, w: 2))
        Self.expectOneLineError(empty, "implausible IDX dimensions 0×2×2") { _ = try IDXReader.images(empty) }
    }

    @Test func labelsAreCheckedAgainstTheClassCount() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.file(dir, "labels", Self.idxLabels([1, 9, 255, 3]))
        Self.expectOneLineError(path, "label 255 at index 2 is outside 0..<10") {
            _ = try IDXReader.labels(path, classes: 10)
        }
        // Through the loader: MNIST's 10 classes, whatever the largest label in the file.
        _ = try Self.file(dir, "train-images-idx3-ubyte", Self.idxImages([[0, 0, 0, 0], [9, 9, 9, 9]], h: 2, w: 2))
        _ = try Self.file(dir, "t10k-images-idx3-ubyte", Self.idxImages([[0, 0, 0, 0]], h: 2, w: 2))
        _ = try Self.file(dir, "train-labels-idx1-ubyte", Self.idxLabels([0, 1]))
        let test = try Self.file(dir, "t10k-labels-idx1-ubyte", Self.idxLabels([10]), gzipped: true)
        Self.expectOneLineError(test, "label 10 at index 0 is outside 0..<10") {
            _ = try DatasetLoader.load("mnist", dataDirectory: dir.path)
        }
        try FileManager.default.removeItem(atPath: test)
        try Self.idxLabels([9]).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
        #expect(try DatasetLoader.load("kmnist", dataDirectory: dir.path).classes == 10)
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
        #expect(d.classes == 10 && d.train.count == 3 && d.test.labels == [1] && d.imageShape == [2, 2, 1])
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
        for i in 1...5 {
            let records = record(label: UInt8(i), value: UInt8(i * 10)) + record(label: 0, value: 0)
            try Data(records).write(to: dir.appendingPathComponent("data_batch_\(i).bin"))
        }
        try Data(record(label: 9, value: 255)).write(to: dir.appendingPathComponent("test_batch.bin"))
        let d = try DatasetLoader.load("cifar10", dataDirectory: dir.path)
        #expect(d.train.count == 10 && d.test.labels == [9] && d.imageShape == [32, 32, 3] && d.classes == 10)
        try Data(record(label: 1, value: 1).dropLast(5)).write(to: dir.appendingPathComponent("test_batch.bin"))
        #expect { try DatasetLoader.load("cifar10", dataDirectory: dir.path) } throws: {
            "\($0)".contains("not a whole number of 3073-byte")
        }
        try Data(record(label: 12, value: 1)).write(to: dir.appendingPathComponent("test_batch.bin"))
        #expect { try DatasetLoader.load("cifar10", dataDirectory: dir.path) } throws: { "\($0)".contains("label 12") }
    }

    /// A CIFAR-100 binary record: coarse label, fine label, then 1024 R, 1024 G, 1024 B bytes.
    static func cifar100Record(coarse: UInt8, fine: UInt8, red: UInt8, green: UInt8, blue: UInt8) -> [UInt8] {
        [coarse, fine] + [UInt8](repeating: red, count: 1024) + [UInt8](repeating: green, count: 1024)
            + [UInt8](repeating: blue, count: 1024)
    }

    @Test func cifar100UsesFineLabelsAndThePlaneLayout() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var first = Self.cifar100Record(coarse: 3, fine: 42, red: 255, green: 0, blue: 51)
        first[2 + 1024 + 33] = 255  // green plane, row 1, column 1
        let train = first + Self.cifar100Record(coarse: 19, fine: 99, red: 0, green: 0, blue: 0)
        try Data(train).write(to: dir.appendingPathComponent("train.bin"))
        let test = Self.cifar100Record(coarse: 0, fine: 7, red: 1, green: 1, blue: 1)
        try Data(test).write(to: dir.appendingPathComponent("test.bin"))
        let raw = try CIFARReader.read(dir.appendingPathComponent("train.bin").path, variant: .cifar100)
        #expect(raw.labels == [42, 99] && raw.images.shape == [2, 32, 32, 3])
        #expect(Array(raw.images.scalars[0..<3]) == [1, 0, 0.2])
        #expect(Array(raw.images.scalars[(33 * 3)..<(33 * 3 + 3)]) == [1, 1, 0.2])  // NHWC: pixel (1, 1)
        let d = try DatasetLoader.load("cifar100", dataDirectory: dir.path)
        #expect(d.classes == 100 && d.train.labels == [42, 99] && d.test.labels == [7] && d.imageShape == [32, 32, 3])
        let bad = dir.appendingPathComponent("test.bin")
        try Data(Self.cifar100Record(coarse: 1, fine: 100, red: 0, green: 0, blue: 0)).write(to: bad)
        Self.expectOneLineError(bad.path, "record 0 has label 100, expected 0–99") {
            _ = try DatasetLoader.load("cifar100", dataDirectory: dir.path)
        }
        try Data(Self.cifar100Record(coarse: 1, fine: 1, red: 0, green: 0, blue: 0).dropLast()).write(to: bad)
        Self.expectOneLineError(bad.path, "not a whole number of 3074-byte cifar100 records") {
            _ = try DatasetLoader.load("cifar100", dataDirectory: dir.path)
        }
        try FileManager.default.removeItem(at: bad)
        #expect { try DatasetLoader.load("cifar100", dataDirectory: dir.path) } throws: {
            "\($0)".contains("cifar100: test.bin not found in \(dir.path)")
        }
    }

    /// A folder with a tiny IDX dataset whose pixels all equal `value`.
    static func idxFolder(_ dir: URL, value: UInt8, train: Int, h: Int = 2) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let image = [UInt8](repeating: value, count: h * h)
        _ = try file(dir, "train-images-idx3-ubyte", idxImages(Array(repeating: image, count: train), h: h, w: h))
        _ = try file(dir, "train-labels-idx1-ubyte", idxLabels([UInt8](repeating: 1, count: train)))
        try idxImages([image], h: h, w: h).write(to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
        try idxLabels([2]).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
    }

    @Test func unionsJoinTrainingImagesWithoutLabelsForTheTransferOnly() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.idxFolder(dir.appendingPathComponent("mnist"), value: 0, train: 3)
        try Self.idxFolder(dir.appendingPathComponent("kmnist"), value: 255, train: 1)
        // Training on a union is refused before any file is read.
        #expect { try DatasetLoader.load("mnist+kmnist", dataDirectory: dir.path) } throws: {
            "\($0)".contains("'mnist+kmnist' is a label-free union") && "\($0)".contains("only the transfer")
        }
        // Parent folder with one subfolder per part.
        let union = try DatasetLoader.load("mnist+kmnist", dataDirectory: dir.path, for: .transfer)
        #expect(union.unionParts == ["mnist", "kmnist"] && union.classes == 10 && union.imageShape == [2, 2, 1])
        #expect(union.train.count == 4 && !union.train.hasLabels && union.train.labels.isEmpty && union.test.count == 0)
        // Standardised with the union's own statistics: 12 zeros and 4 ones → mean 0.25, std √0.1875.
        let low = Float(-0.25 / 0.1875.squareRoot()), high = Float(0.75 / 0.1875.squareRoot())
        #expect(union.train.images.scalars.prefix(12).allSatisfy { abs($0 - low) < 1e-5 })
        #expect(union.train.images.scalars.suffix(4).allSatisfy { abs($0 - high) < 1e-5 })
        // The transfer's split and batches keep "no labels".
        let (t, v) = union.train.split(validationFraction: 0.25, seed: 1)
        #expect(t.count == 3 && v.count == 1 && !t.hasLabels && !v.hasLabels && t.batch([0, 2]).labels.isEmpty)
        // Explicit per-part folders, in either order of the mapping.
        let other = dir.appendingPathComponent("elsewhere")
        try Self.idxFolder(other, value: 255, train: 2)
        let mapping = ["mnist": dir.appendingPathComponent("mnist").path, "kmnist": other.path]
        let mapped = try DatasetLoader.load("kmnist+mnist", dataDirectories: mapping, for: .transfer)
        #expect(mapped.train.count == 5 && mapped.unionParts == ["kmnist", "mnist"])
        #expect {
            try DatasetLoader.load("mnist+kmnist", dataDirectories: ["cifar10": other.path], for: .transfer)
        } throws: {
            "\($0)".contains("'cifar10', which is not part of the dataset 'mnist+kmnist'")
        }
        // Parts of different image shapes.
        try Self.idxFolder(dir.appendingPathComponent("fashion-mnist"), value: 1, train: 2, h: 3)
        #expect { try DatasetLoader.load("mnist+fashion-mnist", dataDirectory: dir.path, for: .transfer) } throws: {
            "\($0)".contains("mnist images are [2, 2, 1] but fashion-mnist images are [3, 3, 1]")
        }
        #expect { try DatasetLoader.load("mnist+mnist", for: .transfer) } throws: {
            "\($0)".contains("names a part twice")
        }
        #expect { try DatasetLoader.load("mnist+imagenet") } throws: {
            "\($0)".contains("unknown dataset 'imagenet' in 'mnist+imagenet'")
        }
        #expect(try DatasetName.parse("cifar10+svhn") == [.cifar10, .svhn])
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
