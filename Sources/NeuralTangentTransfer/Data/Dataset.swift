import Foundation
import NTTLayers

/// A dataset: training and test examples, standardised with the training set's statistics.
public struct Dataset: Sendable {
    public var name: String
    public var train: LabeledImages
    public var test: LabeledImages
    public var classes: Int
    /// [H, W, C].
    public var imageShape: [Int] { train.imageShape }

    public init(name: String, train: LabeledImages, test: LabeledImages, classes: Int) {
        self.name = name; self.train = train; self.test = test; self.classes = classes
    }
}
