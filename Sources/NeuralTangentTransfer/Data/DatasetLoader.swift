import Foundation
import NTTKernels
import NTTLayers

/// Finds, reads and standardises a dataset or a label-free union of datasets.
///
/// A union (`mnist+fashion-mnist`, `cifar10+svhn`; the original's merged sets) is the
/// concatenation of its parts' training images, without their labels (they label different
/// tasks) and without a test set, standardised with the statistics of the union's own training
/// images; its `classes` is the first part's. Parts must have the same image shape.
public enum DatasetLoader {
    /// Loads `name` from one folder and standardises it with the training set's mean and
    /// standard deviation (one scalar for grayscale, one per channel for colour).
    ///
    /// - Parameters:
    ///   - dataDirectory: the dataset's folder (fashion-mnist defaults to
    ///     `DatasetName.fashionMNISTSystemDirectory`); for a union, a folder with one subfolder
    ///     per part named after it (fashion-mnist falls back to its default when absent).
    ///   - use: `.transfer` allows a label-free union; `.supervised` rejects it.
    public static func load(_ name: String, dataDirectory: String? = nil,
                            for use: DatasetUse = .supervised) throws -> Dataset {
        let parts = try DatasetName.parse(name)
        var directories: [String: String] = [:]
        if let dataDirectory {
            if parts.count == 1 {
                directories[parts[0].rawValue] = dataDirectory
            } else {
                for part in parts {
                    let sub = (dataDirectory as NSString).appendingPathComponent(part.rawValue)
                    if part != .fashionMNIST || FileManager.default.fileExists(atPath: sub) {
                        directories[part.rawValue] = sub
                    }
                }
            }
        }
        return try load(name, dataDirectories: directories, for: use)
    }

    /// Loads `name` with a folder per part, e.g. `["mnist": "/data/mnist", "kmnist": "/data/k"]`;
    /// a part without an entry uses its default location (only fashion-mnist has one).
    public static func load(_ name: String, dataDirectories: [String: String],
                            for use: DatasetUse = .supervised) throws -> Dataset {
        let parts = try DatasetName.parse(name)
        for key in dataDirectories.keys.sorted() where !parts.map(\.rawValue).contains(key) {
            throw NTTError("a data folder is given for '\(key)', which is not part of the dataset '\(name)'")
        }
        guard parts.count > 1 else { return standardised(try raw(parts[0], directory: dataDirectories[name])) }
        guard use == .transfer else {
            throw NTTError("'\(name)' is a label-free union of training images: it serves only the transfer "
                           + "(ntt transfer); training, label-based pruning and evaluation need a single dataset")
        }
        let loaded = try parts.map { try raw($0, directory: dataDirectories[$0.rawValue]) }
        for (part, d) in zip(parts, loaded).dropFirst() where d.imageShape != loaded[0].imageShape {
            throw NTTError("'\(name)': \(parts[0].rawValue) images are \(loaded[0].imageShape) but \(part.rawValue) "
                           + "images are \(d.imageShape); a union's parts must have the same image shape")
        }
        let images = Tensor.concatenate(rows: loaded.map(\.train.images))
        var union = Dataset(name: name, train: LabeledImages(unlabelled: images),
                            test: LabeledImages(unlabelled: Tensor.zeros([0] + loaded[0].imageShape)),
                            classes: loaded[0].classes)
        union.unionParts = parts.map(\.rawValue)
        return standardised(union)
    }

    /// One dataset as read, unstandardised.
    static func raw(_ name: DatasetName, directory: String?) throws -> Dataset {
        switch name {
        case .fashionMNIST, .mnist, .kmnist:
            let directory = directory ?? (name == .fashionMNIST ? DatasetName.fashionMNISTSystemDirectory : nil)
            guard let directory else {
                throw NTTError("--dataset \(name.rawValue) needs --data-dir pointing at a folder with "
                               + "train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), "
                               + "t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz)")
            }
            return try idx(name, directory: directory)
        case .cifar10, .cifar100:
            let variant: CIFARReader.Variant = name == .cifar10 ? .cifar10 : .cifar100
            guard let directory else {
                let files = (variant.trainFiles + [variant.testFile]).joined(separator: ", ")
                throw NTTError("--dataset \(name.rawValue) needs --data-dir pointing at the folder of the "
                               + "\(name.rawValue) binary version (\(files))")
            }
            return try CIFARReader.load(variant, directory: directory)
        case .svhn:
            guard let directory else {
                throw NTTError("--dataset svhn needs --data-dir pointing at a folder with the official "
                               + "train_32x32.mat and test_32x32.mat")
            }
            return try SVHNReader.load(directory: directory)
        case .synthetic:
            return SyntheticDataset.make(SyntheticDataset.Options())
        }
    }

    static func idx(_ name: DatasetName, directory: String) throws -> Dataset {
        func find(_ stem: String) throws -> String {
            for candidate in [stem + ".gz", stem] {
                let path = (directory as NSString).appendingPathComponent(candidate)
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            let hint = name == .fashionMNIST && directory == DatasetName.fashionMNISTSystemDirectory
                ? "install it with `apt-get install dataset-fashion-mnist`, or pass --data-dir"
                : "download the \(name.rawValue) IDX files into that folder"
            throw NTTError("\(name.rawValue): \(stem)(.gz) not found in \(directory); \(hint)")
        }
        let trainImages = try IDXReader.images(try find("train-images-idx3-ubyte"))
        let trainLabels = try IDXReader.labels(try find("train-labels-idx1-ubyte"), classes: name.classes)
        let testImages = try IDXReader.images(try find("t10k-images-idx3-ubyte"))
        let testLabels = try IDXReader.labels(try find("t10k-labels-idx1-ubyte"), classes: name.classes)
        guard trainImages.shape[0] == trainLabels.count, testImages.shape[0] == testLabels.count else {
            throw NTTError("\(name.rawValue) in \(directory): image and label counts differ (train "
                           + "\(trainImages.shape[0]) vs \(trainLabels.count), test \(testImages.shape[0]) vs "
                           + "\(testLabels.count))")
        }
        guard trainImages.shape.dropFirst() == testImages.shape.dropFirst() else {
            throw NTTError("\(name.rawValue) in \(directory): train and test images have different sizes")
        }
        return Dataset(name: name.rawValue, train: LabeledImages(images: trainImages, labels: trainLabels),
                       test: LabeledImages(images: testImages, labels: testLabels), classes: name.classes)
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
            let values = x.images.scalars.enumerated().map {
                Float((Double($0.element) - mean[$0.offset % c]) / std[$0.offset % c])
            }
            return x.replacingImages(Tensor(shape: x.images.shape, scalars: values))
        }
        var result = d
        result.train = apply(d.train); result.test = apply(d.test)
        return result
    }
}
