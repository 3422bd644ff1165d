import Foundation
import NTTLayers

/// CIFAR-10, binary version: records of 1 label byte + 3072 pixel bytes (3 planes of 32×32).
public enum CIFAR10Reader {
    public static func load(directory: String) throws -> Dataset {
        func read(_ file: String) throws -> LabeledImages {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw NTTError("cifar10: \(file) not found in \(directory); download the CIFAR-10 binary version and pass its folder as --data-dir")
            }
            let record = 3073
            guard data.count > 0, data.count % record == 0 else {
                throw NTTError("\(path): \(data.count) bytes is not a whole number of 3073-byte CIFAR-10 records (truncated or corrupt)")
            }
            let n = data.count / record
            var pixels = [Float](repeating: 0, count: n * 3072)
            var labels = [Int](repeating: 0, count: n)
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let b = raw.bindMemory(to: UInt8.self)
                for i in 0..<n {
                    let base = i * record
                    labels[i] = Int(b[base])
                    guard labels[i] < 10 else { throw NTTError("\(path): record \(i) has label \(labels[i]), expected 0–9") }
                    for ch in 0..<3 { for p in 0..<1024 { pixels[i * 3072 + p * 3 + ch] = Float(b[base + 1 + ch * 1024 + p]) / 255 } }
                }
            }
            return LabeledImages(images: Tensor(shape: [n, 32, 32, 3], scalars: pixels), labels: labels)
        }
        let batches = try (1...5).map { try read("data_batch_\($0).bin") }
        let train = LabeledImages(images: Tensor.concatenate(rows: batches.map(\.images)), labels: batches.flatMap(\.labels))
        return Dataset(name: "cifar10", train: train, test: try read("test_batch.bin"), classes: 10)
    }
}
