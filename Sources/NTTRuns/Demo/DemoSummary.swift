import Foundation
import NeuralTangentTransfer

/// What the demo found (`summary.json`), and its Markdown table (`summary.md`).
public struct DemoSummary: Codable, Sendable, Equatable {
    public struct Transfer: Codable, Sendable, Equatable {
        public var iterations: Int
        public var ntkDistanceBefore: Double
        public var ntkDistanceAfter: Double
        public var seconds: Double
    }

    public struct Row: Codable, Sendable, Equatable {
        public var testAccuracy: Double
        public var trainAccuracy: Double
        public var keptPerLayer: [Int]
        public var seconds: Double
    }

    public var model: String
    public var dataset: String
    public var density: Double
    public var seed: UInt64
    public var transfer: Transfer
    /// By initialisation name (`ntt`, then the baselines).
    public var results: [String: Row]
    /// The initialisations in the order they ran.
    public var order: [String]
    public var wallSeconds: Double
    public var toolVersion: String = NTTVersion.current

    /// The report: the transfer's result and a table of accuracies per initialisation.
    public var markdown: String {
        let t = transfer
        var text = "# ntt demo\n\n\(model) on \(dataset), density \(density), seed \(seed).\n\n"
        text += String(format: "Transfer: %d iterations in %.0f s; "
                           + "NTK distance on the probe %.1f → %.1f (%.1f× lower).\n\n",
                       t.iterations, t.seconds, t.ntkDistanceBefore, t.ntkDistanceAfter,
                       t.ntkDistanceBefore / t.ntkDistanceAfter)
        text += table + String(format: "\nTotal wall time: %.0f s.\n", wallSeconds)
        return text
    }

    public var table: String {
        var s = "| initialisation | density | test accuracy | train accuracy | training time |\n|---|---|---|---|---|\n"
        for name in order {
            guard let r = results[name] else { continue }
            let kept = r.keptPerLayer.reduce(0, +)
            s += String(format: "| %@ | %@ | %.2f%% | %.2f%% | %.0f s |\n", name,
                        name == "dense" ? "1.0" : String(density) + " (\(kept) weights)",
                        r.testAccuracy * 100, r.trainAccuracy * 100, r.seconds)
        }
        return s
    }
}
