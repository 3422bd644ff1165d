import Foundation
import NTTLayers

/// CIFAR-10 and CIFAR-100, binary versions: fixed-size records of label bytes then 3072 pixel
/// bytes (1024 red, 1024 green, 1024 blue, each a row-major 32×32 plane).
public enum CIFARReader {
    /// A binary version's record layout and files.
    public enum Variant: Sendable {
        /// 1 label byte (0…9); `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`.
        case cifar10
        /// A coarse and a fine label byte; the fine label (0…99) is used. `train.bin`, `test.bin`.
        case cifar100

        var name: String { self == .cifar10 ? "cifar10" : "cifar100" }
        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        /// Which label byte is the label.
        var labelIndex: Int { self == .cifar10 ? 0 : 1 }
        public var classes: Int { self == .cifar10 ? 10 : 100 }
        var trainFiles: [String] { self == .cifar10 ? (1...5).map { "data_batch_\($0).bin" } : ["train.bin"] }
        var testFile: String { self == .cifar10 ? "test_batch.bin" : "test.bin" }
    }

    /// One file's records: unstandardised [N, 32, 32, 3] images in [0, 1] and their labels.
    public static func read(_ path: String, variant: Variant) throws -> LabeledImages {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NTTError("\(path): cannot read the file")
        }
        let record = variant.labelBytes + 3072
        guard data.count > 0, data.count % record == 0 else {
            throw NTTError("\(path): \(data.count) bytes is not a whole number of \(record)-byte \(variant.name) "
                           + "records (truncated or corrupt)")
        }
        let n = data.count / record
        var pixels = [Float](repeating: 0, count: n * 3072)
        var labels = [Int](repeating: 0, count: n)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            for i in 0..<n {
                let base = i * record
                labels[i] = Int(b[base + variant.labelIndex])
                guard labels[i] < variant.classes else {
                    throw NTTError("\(path): record \(i) has label \(labels[i]), expected 0–\(variant.classes - 1)")
                }
                let planes = base + variant.labelBytes
                for ch in 0..<3 {
                    for p in 0..<1024 { pixels[i * 3072 + p * 3 + ch] = Float(b[planes + ch * 1024 + p]) / 255 }
                }
            }
        }
        return LabeledImages(images: Tensor(shape: [n, 32, 32, 3], scalars: pixels), labels: labels)
    }

    /// The training and test files in `directory`, unstandardised.
    public static func load(_ variant: Variant, directory: String) throws -> Dataset {
        func read(_ file: String) throws -> LabeledImages {
            let path = (directory as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else {
                throw NTTError("\(variant.name): \(file) not found in \(directory); download the \(variant.name) "
                               + "binary version and pass its folder as --data-dir")
            }
            return try Self.read(path, variant: variant)
        }
        let parts = try variant.trainFiles.map(read)
        let train = parts.count == 1 ? parts[0]
            : LabeledImages(images: Tensor.concatenate(rows: parts.map(\.images)), labels: parts.flatMap(\.labels))
        return Dataset(name: variant.name, train: train, test: try read(variant.testFile), classes: variant.classes)
    }
}
