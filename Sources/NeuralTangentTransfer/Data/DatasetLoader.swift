import Foundation
import NTTLayers

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
