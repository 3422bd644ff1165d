import Foundation
import NTTLayers

/// SVHN's official cropped-digit files `train_32x32.mat` and `test_32x32.mat` (MATLAB v5):
/// `X` uint8 [32, 32, 3, N] in MATLAB's column-major order (row, column, channel, image) and
/// `y` [N, 1] (a double array) with labels 1…10, where 10 is the digit 0.
public enum SVHNReader {
    /// Unstandardised images as [N, 32, 32, 3] in [0, 1] and labels 0…9 (label 10 → 0).
    public static func read(_ path: String) throws -> LabeledImages {
        let arrays = try MATFile.read(path, variables: ["X", "y"])
        let expected = "X uint8 [32, 32, 3, N] and y [N, 1] as in the official SVHN files"
        guard let x = arrays["X"], let y = arrays["y"] else {
            throw NTTError("\(path): no variable '\(arrays["X"] == nil ? "X" : "y")'; expected \(expected)")
        }
        guard x.classID == 9, x.storageType == 2 else {
            throw NTTError("\(path): X is \(x.className); expected \(expected)")
        }
        guard x.dimensions.count == 4, x.dimensions[0...2] == [32, 32, 3], x.dimensions[3] > 0 else {
            throw NTTError("\(path): X has shape \(x.dimensions); expected \(expected)")
        }
        let n = x.dimensions[3]
        guard y.dimensions == [n, 1] || y.dimensions == [1, n] else {
            throw NTTError("\(path): y has shape \(y.dimensions) for \(n) images; expected \(expected)")
        }
        let values = y.values
        if let bad = values.firstIndex(where: { !(1...10).contains($0) || $0 != $0.rounded() }) {
            throw NTTError("\(path): label \(values[bad]) at index \(bad) is outside 1…10 (SVHN's labels; 10 is "
                           + "the digit 0)")
        }
        let labels = values.map { Int($0) % 10 }
        // Column-major X[h, w, c, i] sits at h + 32·(w + 32·(c + 3·i)); NHWC wants ((i·32 + h)·32 + w)·3 + c.
        var pixels = [Float](repeating: 0, count: n * 3072)
        x.bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    for c in 0..<3 {
                        for w in 0..<32 {
                            let from = ((i * 3 + c) * 32 + w) * 32
                            for h in 0..<32 { dst[((i * 32 + h) * 32 + w) * 3 + c] = Float(src[from + h]) / 255 }
                        }
                    }
                }
            }
        }
        return LabeledImages(images: Tensor(shape: [n, 32, 32, 3], scalars: pixels), labels: labels)
    }

    /// The training and test files in `directory`, unstandardised.
    public static func load(directory: String) throws -> Dataset {
        func read(_ file: String) throws -> LabeledImages {
            let path = (directory as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else {
                throw NTTError("svhn: \(file) not found in \(directory); download the official train_32x32.mat "
                               + "and test_32x32.mat into that folder")
            }
            return try Self.read(path)
        }
        return Dataset(name: "svhn", train: try read("train_32x32.mat"), test: try read("test_32x32.mat"), classes: 10)
    }
}
