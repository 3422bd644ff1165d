import Foundation
import NTTLayers

/// The datasets `ntt` knows by name.
public enum DatasetName: String, CaseIterable, Sendable, Codable {
    case fashionMNIST = "fashion-mnist", mnist, kmnist, cifar10, synthetic

    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let fashionMNISTSystemDirectory = "/usr/share/datasets/fashion-mnist"
}
