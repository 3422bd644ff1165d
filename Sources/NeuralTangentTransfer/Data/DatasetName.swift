import Foundation

/// The datasets `ntt` knows by name. A dataset argument is one name or a label-free union of
/// names joined by `+` (see `parse(_:)`).
public enum DatasetName: String, CaseIterable, Sendable, Codable {
    case fashionMNIST = "fashion-mnist", mnist, kmnist, cifar10, cifar100, svhn, synthetic

    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let fashionMNISTSystemDirectory = "/usr/share/datasets/fashion-mnist"

    /// The number of classes; file labels are checked against it (CIFAR-100: fine labels).
    public var classes: Int { self == .cifar100 ? 100 : 10 }

    /// A one-line description of the dataset argument, for `--help`.
    public static let helpText = "Dataset: \(allCases.map(\.rawValue).joined(separator: ", ")), or for the transfer "
        + "only a label-free union of training images such as mnist+fashion-mnist or cifar10+svhn (standardised "
        + "with the union's own statistics; --data-dir then holds one subfolder per part, named after it)."

    /// The parts of a dataset argument: one name, or two or more distinct names joined by `+`.
    public static func parse(_ text: String) throws -> [DatasetName] {
        let names = text.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        let parts = try names.map { part in
            guard let name = DatasetName(rawValue: part) else {
                throw NTTError("unknown dataset '\(part)'\(names.count > 1 ? " in '\(text)'" : ""); expected one of "
                               + "\(allCases.map(\.rawValue).joined(separator: ", ")), or a union such as mnist+kmnist")
            }
            return name
        }
        guard Set(parts).count == parts.count else { throw NTTError("dataset union '\(text)' names a part twice") }
        return parts
    }
}
