import CZlib
import Foundation
import Testing
@testable import NeuralTangentTransfer

/// MATLAB v5 files as the SVHN reader needs them: hand-written files (uncompressed and
/// miCOMPRESSED elements, both byte orders), SciPy-written fixtures, and one-line errors for
/// truncated, corrupt and wrong-format files.
struct MATFileTests {
    /// Writes MATLAB v5 files element by element (MathWorks, "MAT-File Format").
    struct Writer {
        var bigEndian = false
        var text = "MATLAB 5.0 MAT-file, written by MATFileTests"
        var version = 0x0100
        var body: [UInt8] = []

        func word(_ v: Int) -> [UInt8] {
            let b = [UInt8(v & 255), UInt8(v >> 8 & 255), UInt8(v >> 16 & 255), UInt8(v >> 24 & 255)]
            return bigEndian ? b.reversed() : b
        }

        /// Values stored as miUINT8 (2), miINT32 (5) or miDOUBLE (9), in the file's byte order.
        func stored(_ values: [Double], as type: Int) -> [UInt8] {
            values.flatMap { v -> [UInt8] in
                switch type {
                case 2: return [UInt8(v)]
                case 5: return word(Int(Int32(v)) & 0xffff_ffff)
                default:
                    let b = withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
                    return bigEndian ? b.reversed() : b
                }
            }
        }

        /// A tag and its data padded to 8 bytes, or a small element when it fits in 4 bytes.
        func element(_ type: Int, _ data: [UInt8], small: Bool = true, pad: Bool = true) -> [UInt8] {
            if small && data.count <= 4 && data.count > 0 {
                return word(data.count << 16 | type) + data + [UInt8](repeating: 0, count: 4 - data.count)
            }
            let padding = pad ? (8 - data.count % 8) % 8 : 0
            return word(type) + word(data.count) + data + [UInt8](repeating: 0, count: padding)
        }

        /// A miMATRIX element: array flags, dimensions, name, real part.
        func matrix(_ name: String, classID: Int, dimensions: [Int], storage: Int, data: [UInt8],
                    flags: Int = 0) -> [UInt8] {
            let parts = element(6, word(classID | flags) + word(0), small: false)
                + element(5, dimensions.flatMap { word($0) }, small: false)
                + element(1, Array(name.utf8)) + element(storage, data)
            return element(14, parts, small: false)
        }

        /// Wraps an element in miCOMPRESSED (zlib; not padded, as MATLAB and SciPy write it).
        func compressed(_ element: [UInt8]) -> [UInt8] {
            var size = compressBound(uLong(element.count))
            var out = [UInt8](repeating: 0, count: Int(size))
            let status = compress2(&out, &size, element, uLong(element.count), 6)
            precondition(status == Z_OK)
            return self.element(15, Array(out.prefix(Int(size))), small: false, pad: false)
        }

        var data: Data {
            let header = Array((text + String(repeating: " ", count: 116)).utf8.prefix(116))
            let versionBytes = [UInt8(version & 255), UInt8(version >> 8)]
            let endian: [UInt8] = bigEndian ? [0x4d, 0x49] : [0x49, 0x4d]
            return Data(header + [UInt8](repeating: 0, count: 8) + (bigEndian ? versionBytes.reversed() : versionBytes)
                        + endian + body)
        }
    }

    /// The fixtures' pixel pattern: X[h, w, c, n] = (7h + 3w + 50c + 11n) mod 256.
    static func pattern(_ h: Int, _ w: Int, _ c: Int, _ n: Int) -> UInt8 {
        UInt8((7 * h + 3 * w + 50 * c + 11 * n) % 256)
    }

    /// X in column-major order, as MATLAB stores it.
    static func columnMajorX(count: Int, channels: Int = 3) -> [UInt8] {
        var x: [UInt8] = []
        for n in 0..<count {
            for c in 0..<channels { for w in 0..<32 { for h in 0..<32 { x.append(pattern(h, w, c, n)) } } }
        }
        return x
    }

    /// Checks NHWC images against the pattern.
    static func expectPattern(_ images: Tensor, count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(images.shape == [count, 32, 32, 3], sourceLocation: sourceLocation)
        var mismatches = 0
        for n in 0..<count { for h in 0..<32 { for w in 0..<32 { for c in 0..<3 {
            if images.scalars[((n * 32 + h) * 32 + w) * 3 + c] != Float(pattern(h, w, c, n)) / 255 { mismatches += 1 }
        } } } }
        #expect(mismatches == 0, sourceLocation: sourceLocation)
    }

    static func folder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mat-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A valid file: X (uint8, optionally compressed), an unwanted char variable, y as a double
    /// array stored as uint8 (MATLAB narrows storage so).
    static func svhnFile(_ w: inout Writer, labels: [Double], compressX: Bool, compressY: Bool) {
        let x = w.matrix("X", classID: 9, dimensions: [32, 32, 3, labels.count], storage: 2,
                         data: columnMajorX(count: labels.count))
        let note = w.matrix("note", classID: 4, dimensions: [1, 2], storage: 4, data: [104, 0, 105, 0])
        let y = w.matrix("y", classID: 6, dimensions: [labels.count, 1], storage: 2, data: w.stored(labels, as: 2))
        w.body += (compressX ? w.compressed(x) : x) + note + (compressY ? w.compressed(y) : y)
    }

    @Test func readsHandWrittenFilesInBothByteOrdersWithAndWithoutCompression() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for bigEndian in [false, true] {
            for (compressX, compressY) in [(false, false), (true, false), (false, true), (true, true)] {
                var w = Writer(bigEndian: bigEndian)
                Self.svhnFile(&w, labels: [10, 1, 5], compressX: compressX, compressY: compressY)
                let path = dir.appendingPathComponent("f-\(bigEndian)-\(compressX)-\(compressY).mat").path
                try w.data.write(to: URL(fileURLWithPath: path))
                let read = try SVHNReader.read(path)
                #expect(read.labels == [0, 1, 5])
                Self.expectPattern(read.images, count: 3)
            }
        }
        // y as miDOUBLE and miINT32 storage, [1, N] shape.
        for storage in [9, 5] {
            var w = Writer()
            w.body = w.matrix("X", classID: 9, dimensions: [32, 32, 3, 2], storage: 2,
                              data: Self.columnMajorX(count: 2))
                + w.matrix("y", classID: 6, dimensions: [1, 2], storage: storage, data: w.stored([7, 10], as: storage))
            let path = dir.appendingPathComponent("y\(storage).mat").path
            try w.data.write(to: URL(fileURLWithPath: path))
            #expect(try SVHNReader.read(path).labels == [7, 0])
        }
    }

    @Test(arguments: ["compressed", "uncompressed"])
    func readsSciPyFixturesInTheOfficialLayout(_ kind: String) throws {
        let train = try #require(Bundle.module.url(forResource: "train_32x32", withExtension: "mat",
                                                   subdirectory: "Fixtures/svhn-mat/\(kind)"))
        let raw = try SVHNReader.read(train.path)
        #expect(raw.labels == [0, 1, 5])  // y = 10, 1, 5 in the file
        Self.expectPattern(raw.images, count: 3)
        let d = try DatasetLoader.load("svhn", dataDirectory: train.deletingLastPathComponent().path)
        #expect(d.classes == 10 && d.train.count == 3 && d.test.labels == [3, 0] && d.imageShape == [32, 32, 3])
        // Standardised per channel with the training images' statistics.
        for c in 0..<3 {
            let channel = stride(from: c, to: d.train.images.count, by: 3).map { Double(d.train.images.scalars[$0]) }
            let mean = channel.reduce(0, +) / Double(channel.count)
            let variance = channel.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(channel.count)
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-4)
        }
    }

    @Test func svhnJoinsAUnionWithCIFAR10() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let record = [UInt8](repeating: 3, count: 3073)
        for file in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
            try Data(record).write(to: dir.appendingPathComponent(file))
        }
        let svhnTrain = try #require(Bundle.module.url(forResource: "train_32x32", withExtension: "mat",
                                                       subdirectory: "Fixtures/svhn-mat/compressed"))
        let svhn = svhnTrain.deletingLastPathComponent()
        let union = try DatasetLoader.load("cifar10+svhn", dataDirectories: ["cifar10": dir.path, "svhn": svhn.path],
                                           for: .transfer)
        #expect(union.train.count == 5 + 3 && !union.train.hasLabels && union.unionParts == ["cifar10", "svhn"])
    }

    /// Writes `data` and expects a one-line error naming the file and containing `message`.
    static func expectError(_ data: Data, _ message: String, in dir: URL,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = dir.appendingPathComponent("bad-\(UUID().uuidString).mat").path
        try data.write(to: URL(fileURLWithPath: path))
        #expect(sourceLocation: sourceLocation) { try SVHNReader.read(path) } throws: {
            "\($0)".contains(path) && "\($0)".contains(message) && !"\($0)".contains("\n")
        }
    }

    @Test func wrongFormatsTruncatedAndCorruptFilesGiveOneLineErrors() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var good = Writer()
        Self.svhnFile(&good, labels: [1, 2], compressX: false, compressY: true)
        let x = good.matrix("X", classID: 9, dimensions: [32, 32, 3, 2], storage: 2, data: Self.columnMajorX(count: 2))
        let y = good.matrix("y", classID: 6, dimensions: [2, 1], storage: 9, data: good.stored([1, 2], as: 9))
        func file(_ elements: [UInt8]) -> Data { var w = Writer(); w.body = elements; return w.data }

        // v7.3 (HDF5): its header text, and the HDF5 signature at byte 512.
        var v73 = Data(Array("MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".utf8))
        v73 += Data(count: 512 - v73.count) + Data([0x89, 72, 68, 70, 13, 10, 26, 10]) + Data(count: 64)
        try Self.expectError(v73, "MATLAB v7.3 (HDF5) MAT-file", in: dir)
        try Self.expectError(Data("hello".utf8), "too short for a MAT-file's 128-byte header", in: dir)
        try Self.expectError(Data(count: 200), "not a MATLAB v5 MAT-file", in: dir)
        var wrongVersion = Writer(); wrongVersion.version = 0x0200
        try Self.expectError(wrongVersion.data, "version 0x200, expected 0x100", in: dir)
        var badEndian = file(x + y); badEndian[126] = 0x41
        try Self.expectError(badEndian, "endian indicator", in: dir)

        // Missing or wrong variables.
        try Self.expectError(file(y), "no variable 'X'; expected X uint8 [32, 32, 3, N] and y [N, 1]", in: dir)
        try Self.expectError(file(x), "no variable 'y'", in: dir)
        let pixels = Self.columnMajorX(count: 2)
        let doubleX = good.matrix("X", classID: 6, dimensions: [32, 32, 3, 2], storage: 2, data: pixels)
        try Self.expectError(file(doubleX + y), "X is double; expected X uint8", in: dir)
        let grayX = good.matrix("X", classID: 9, dimensions: [32, 32, 1, 6], storage: 2, data: pixels)
        try Self.expectError(file(grayX + y), "X has shape [32, 32, 1, 6]", in: dir)
        let y3 = good.matrix("y", classID: 6, dimensions: [3, 1], storage: 9, data: good.stored([1, 2, 3], as: 9))
        try Self.expectError(file(x + y3), "y has shape [3, 1] for 2 images", in: dir)
        let y11 = good.matrix("y", classID: 6, dimensions: [2, 1], storage: 9, data: good.stored([1, 11], as: 9))
        try Self.expectError(file(x + y11), "label 11.0 at index 1 is outside 1…10", in: dir)
        let y0 = good.matrix("y", classID: 6, dimensions: [2, 1], storage: 9, data: good.stored([0, 2], as: 9))
        try Self.expectError(file(x + y0), "label 0.0 at index 0", in: dir)
        let complexX = good.matrix("X", classID: 9, dimensions: [32, 32, 3, 2], storage: 2, data: pixels, flags: 0x800)
        try Self.expectError(file(complexX + y), "'X' is a complex array", in: dir)
        let cellX = good.matrix("X", classID: 1, dimensions: [1, 1], storage: 2, data: [0])
        try Self.expectError(file(cellX + y), "'X' is a cell array", in: dir)

        // Sizes that do not add up, including ones whose product overflows.
        let hugeX = good.matrix("X", classID: 9, dimensions: [65536, 65536, 65536, 65536], storage: 2,
                                data: [1, 2, 3, 4, 5])
        try Self.expectError(file(hugeX + y), "has dimensions [65536, 65536, 65536, 65536] but 5 bytes", in: dir)
        let negativeX = good.matrix("X", classID: 9, dimensions: [32, -1], storage: 2, data: [1])
        try Self.expectError(file(negativeX + y), "negative dimensions [32, -1]", in: dir)
        try Self.expectError(good.data.prefix(2000), "(truncated)", in: dir)
        try Self.expectError(good.data.prefix(good.data.count - 3), "(truncated)", in: dir)
        try Self.expectError(file(good.element(9, good.stored([1], as: 9))), "unexpected top-level element of type 9",
                             in: dir)

        // Compressed elements: garbage, a cut stream, trailing data, and a declared size the
        // compressed bytes cannot hold (checked before allocating).
        try Self.expectError(file(good.element(15, [1, 2, 3, 4, 5, 6, 7, 8, 9], small: false, pad: false) + y),
                             "corrupt compressed data", in: dir)
        let whole = good.compressed(x)
        let cut = good.element(15, Array(whole[8..<(whole.count - 20)]), small: false, pad: false)
        try Self.expectError(file(cut + y), "(truncated)", in: dir)
        let extra = good.compressed(x + [UInt8](repeating: 0, count: 16))
        try Self.expectError(file(extra + y), "holds more than its", in: dir)
        let lie = good.compressed(good.word(14) + good.word(0x7fff_fff0))
        try Self.expectError(file(lie + y), "declares 2147483632 bytes, more than its", in: dir)
        let notMatrix = good.compressed(good.element(9, good.stored([1], as: 9)))
        try Self.expectError(file(notMatrix + y), "a compressed element holds type 9", in: dir)
    }
}
