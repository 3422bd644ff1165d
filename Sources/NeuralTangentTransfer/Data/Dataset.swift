import Foundation
import NTTKernels
import NTTLayers

/// A dataset: training and test examples, standardised with the training set's statistics.
public struct Dataset: Sendable {
    public var name: String
    public var train: LabeledImages
    public var test: LabeledImages
    /// The number of classes (for a union, the first part's: the model's output width).
    public var classes: Int
    /// For a label-free union (`mnist+fashion-mnist`), the parts whose training images it joins;
    /// empty for a single dataset. A union has no labels and an empty test set, so only the
    /// transfer, which never reads labels, can use it (`DatasetLoader.load(_:for:)` enforces it).
    public var unionParts: [String] = []
    /// [H, W, C].
    public var imageShape: [Int] { train.imageShape }

    public init(name: String, train: LabeledImages, test: LabeledImages, classes: Int) {
        self.name = name; self.train = train; self.test = test; self.classes = classes
    }
}
