import Foundation
import NeuralTangentTransfer

/// NTT against each other sparse initialisation, seed by seed: cells of the same seed share the
/// data order and the dense initial weights, so the per-seed difference of final test accuracies is
/// the fair comparison. A plain rule says where NTT wins, ties or loses, so that a reader can
/// check it against the raw numbers.
extension ExperimentReport {
    /// The comparison of NTT with `method` at one density: the per-seed differences (NTT − method,
    /// final test accuracy) over the seeds both finished.
    struct Comparison: Equatable {
        var differences: [Double]
        /// NTT ahead on every paired seed: "win"; behind on every one: "loss"; else "tie".
        /// Fewer than 2 paired seeds: nil (no verdict).
        var verdict: String? {
            guard differences.count >= 2 else { return nil }
            if differences.allSatisfy({ $0 > 0 }) { return "win" }
            if differences.allSatisfy({ $0 < 0 }) { return "loss" }
            return "tie"
        }
        var ahead: Int { differences.filter { $0 > 0 }.count }
    }

    static let comparisonNote = "NTT − method, final test accuracy in percentage points: mean ± std of the "
        + "per-seed differences (cells of one seed share the data order and start from the same dense initial "
        + "weights), then the number of seeds on which NTT is ahead. Verdict: win if NTT is ahead on every seed "
        + "both finished, loss if behind on every one, tie otherwise; no verdict with fewer than 2 seeds. With 3 "
        + "seeds a verdict is weak evidence (a coin gives 3 of 3 one time in 8): read it with the size of the "
        + "difference."

    func comparison(_ s: Setting, method: InitializationMethod, density: Double) -> Comparison {
        func accuracies(_ i: InitializationMethod) -> [UInt64: Double] {
            var out: [UInt64: Double] = [:]
            for t in trains.map(\.result) where matches(t.cell, s) && t.cell.initialization == i
                && t.cell.density == density {
                if let a = t.testAccuracy { out[t.cell.seed] = a }
            }
            return out
        }
        let ntt = accuracies(.ntt), other = accuracies(method)
        let seeds = Set(ntt.keys).intersection(other.keys).sorted()
        return Comparison(differences: seeds.map { (ntt[$0]! - other[$0]!) * 100 })
    }

    /// Rows: the other sparse initialisations; columns: the densities NTT was trained at. Nil
    /// without finished NTT cells or anything to compare them with.
    func comparisonTable(_ s: Setting) -> ReportTable? {
        let densities = Set(trains.map(\.result).filter { matches($0.cell, s) && $0.cell.initialization == .ntt }
            .map(\.cell.density)).sorted()
        let others = initializations(s).filter { $0 != .ntt && !$0.isDense }
        guard !densities.isEmpty && !others.isEmpty else { return nil }
        var table = ReportTable(header: ["NTT vs"] + densities.map { "d = \($0)" })
        for method in others {
            table.rows.append([method.name] + densities.map { d in
                let c = comparison(s, method: method, density: d)
                guard !c.differences.isEmpty else { return "–" }
                let (m, sd) = Self.meanAndStd(c.differences)
                return String(format: "%+.2f ± %.2f, %d/%d", m, sd, c.ahead, c.differences.count)
                    + (c.verdict.map { ": " + $0 } ?? "")
            })
        }
        return table
    }
}
