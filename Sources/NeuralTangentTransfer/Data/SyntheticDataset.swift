import Foundation
import NTTKernels
import NTTLayers

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
                for p in 0..<size {
                    pixels[i * size + p] = Float(prototypes[labels[i]][p] + o.noise * rng.nextNormal())
                }
            }
            return LabeledImages(images: Tensor(shape: [n] + o.imageShape, scalars: pixels), labels: labels)
        }
        return Dataset(name: "synthetic", train: sample(o.trainCount), test: sample(o.testCount), classes: o.classes)
    }
}
