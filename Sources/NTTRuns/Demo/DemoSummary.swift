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
        /// NTK distance to the dense network with the same initial weights, at the start (`InitialDistance`).
        public var initialNtkDistance: Double?
        /// Against the dense run at the end, on the test probe (`ProbeComparison`); nil for `dense`.
        public var outputDistance: Double?
        public var agreement: Double?
    }

    public var model: String
    public var dataset: String
    public var density: Double
    public var seed: UInt64
    public var transfer: Transfer
    /// By initialisation name (`ntt`, then the baselines).
    public var results: [String: Row]
    /// The initialisations in the table's order (ntt, then the baselines as given; dense ran first).
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
        text += table + "\n" + Self.tableNote + "\n" + String(format: "\nTotal wall time: %.0f s.\n", wallSeconds)
        return text
    }

    public var table: String {
        var s = "| initialisation | density | test accuracy | train accuracy | training time "
            + "| initial NTK distance | output distance to dense | agreement with dense |\n"
            + "|---|---|---|---|---|---|---|---|\n"
        func number(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "–" }
        for name in order {
            guard let r = results[name] else { continue }
            let kept = r.keptPerLayer.reduce(0, +)
            s += String(format: "| %@ | %@ | %.2f%% | %.2f%% | %.0f s | %@ | %@ | %@ |\n", name,
                        name == "dense" ? "1.0" : String(density) + " (\(kept) weights)",
                        r.testAccuracy * 100, r.trainAccuracy * 100, r.seconds, number(r.initialNtkDistance, "%.4g"),
                        number(r.outputDistance, "%.4g"), number(r.agreement.map { $0 * 100 }, "%.2f%%"))
        }
        return s
    }

    /// What the extra columns mean, under the table.
    public static let tableNote = "Initial NTK distance: Σ(Θ_s − Θ_d)²/|Θ| between the sparse network at the start and "
        + "the dense network with the same initial weights, on the transfer's probe (as the transfer's own distance). "
        + "Output distance and agreement: against the dense run, trained in lockstep, after the last iteration, on "
        + "the first \(ProbeOutputs.probeSize) test inputs (Σ(f_s − f_d)²/|f|; the fraction predicting the same "
        + "class)."
}
