import Foundation
import NTTKernels
import NTTLayers

/// The datasets `ntt` knows by name.
public enum DatasetName: String, CaseIterable, Sendable, Codable {
    case fashionMNIST = "fashion-mnist", mnist, kmnist, cifar10, synthetic

    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let fashionMNISTSystemDirectory = "/usr/share/datasets/fashion-mnist"
}

/// Finds, reads and standardises a dataset.
public enum DatasetLoader {
    /// Loads `name` (`dataDirectory` overrides the default location) and standardises pixels
    /// with the training set's mean and standard deviation (one scalar for grayscale, one per
    /// channel for colour).
    public static func load(_ nameText: String, dataDirectory: String? = nil) throws -> Dataset {
        guard let name = DatasetName(rawValue: nameText) else {
            throw NTTError("unknown dataset '\(nameText)'; expected one of \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let raw: Dataset
        switch name {
        case .fashionMNIST, .mnist, .kmnist:
            let directory = dataDirectory ?? (name == .fashionMNIST ? DatasetName.fashionMNISTSystemDirectory : nil)
            guard let directory else {
                throw NTTError("--dataset \(name.rawValue) needs --data-dir pointing at a folder with train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz)")
            }
            raw = try idx(name.rawValue, directory: directory)
        case .cifar10:
            guard let dataDirectory else {
                throw NTTError("--dataset cifar10 needs --data-dir pointing at the folder of the CIFAR-10 binary version (data_batch_1.bin … data_batch_5.bin, test_batch.bin)")
            }
            raw = try CIFAR10Reader.load(directory: dataDirectory)
        case .synthetic:
            raw = SyntheticDataset.make(SyntheticDataset.Options())
        }
        return standardised(raw)
    }

    static func idx(_ name: String, directory: String) throws -> Dataset {
        func find(_ stem: String) throws -> String {
            for candidate in [stem + ".gz", stem] {
                let path = (directory as NSString).appendingPathComponent(candidate)
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            let hint = name == "fashion-mnist" && directory == DatasetName.fashionMNISTSystemDirectory
                ? "install it with `apt-get install dataset-fashion-mnist`, or pass --data-dir"
                : "download the \(name) IDX files into that folder"
            throw NTTError("\(name): \(stem)(.gz) not found in \(directory); \(hint)")
        }
        let trainImages = try IDXReader.images(try find("train-images-idx3-ubyte"))
        let trainLabels = try IDXReader.labels(try find("train-labels-idx1-ubyte"))
        let testImages = try IDXReader.images(try find("t10k-images-idx3-ubyte"))
        let testLabels = try IDXReader.labels(try find("t10k-labels-idx1-ubyte"))
        guard trainImages.shape[0] == trainLabels.count, testImages.shape[0] == testLabels.count else {
            throw NTTError("\(name) in \(directory): image and label counts differ (train \(trainImages.shape[0]) vs \(trainLabels.count), test \(testImages.shape[0]) vs \(testLabels.count))")
        }
        guard trainImages.shape.dropFirst() == testImages.shape.dropFirst() else {
            throw NTTError("\(name) in \(directory): train and test images have different sizes")
        }
        let classes = (trainLabels.max() ?? 0) + 1
        guard trainLabels.allSatisfy({ $0 >= 0 }), testLabels.allSatisfy({ $0 < classes }) else {
            throw NTTError("\(name) in \(directory): test labels outside the training labels' range 0..<\(classes)")
        }
        return Dataset(name: name, train: LabeledImages(images: trainImages, labels: trainLabels),
                       test: LabeledImages(images: testImages, labels: testLabels), classes: classes)
    }

    /// (x − mean) / std per channel, statistics from the training images.
    public static func standardised(_ d: Dataset) -> Dataset {
        let c = d.imageShape[2]
        var sum = [Double](repeating: 0, count: c), sumSquares = [Double](repeating: 0, count: c)
        for (i, v) in d.train.images.scalars.enumerated() {
            sum[i % c] += Double(v); sumSquares[i % c] += Double(v) * Double(v)
        }
        let perChannel = Double(d.train.images.count / c)
        let mean = sum.map { $0 / perChannel }
        let std = zip(sumSquares, mean).map { max(($0 / perChannel - $1 * $1).squareRoot(), 1e-8) }
        func apply(_ x: LabeledImages) -> LabeledImages {
            let values = x.images.scalars.enumerated().map { Float((Double($0.element) - mean[$0.offset % c]) / std[$0.offset % c]) }
            return LabeledImages(images: Tensor(shape: x.images.shape, scalars: values), labels: x.labels)
        }
        return Dataset(name: d.name, train: apply(d.train), test: apply(d.test), classes: d.classes)
    }
}

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

/// A small learnable dataset for tests and demos: each class is a fixed random prototype image
/// plus Gaussian noise, seeded.
public enum SyntheticDataset {
    public struct Options: Sendable {
        public var imageShape = [28, 28, 1]
        public var classes = 10
        public var trainCount = 2048
        public var testCount = 512
        public var noise = 1.0
        public var seed: UInt64 = 0
        public init() {}
    }

    public static func make(_ o: Options) -> Dataset {
        var rng = SeededRandom(seed: o.seed, stream: "synthetic")
        let size = o.imageShape.reduce(1, *)
        let prototypes = (0..<o.classes).map { _ in (0..<size).map { _ in rng.nextNormal() } }
        func sample(_ n: Int) -> LabeledImages {
            var pixels = [Float](repeating: 0, count: n * size)
            var labels = [Int](repeating: 0, count: n)
            for i in 0..<n {
                labels[i] = rng.nextInt(below: o.classes)
                for p in 0..<size { pixels[i * size + p] = Float(prototypes[labels[i]][p] + o.noise * rng.nextNormal()) }
            }
            return LabeledImages(images: Tensor(shape: [n] + o.imageShape, scalars: pixels), labels: labels)
        }
        return Dataset(name: "synthetic", train: sample(o.trainCount), test: sample(o.testCount), classes: o.classes)
    }
}
