import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

struct SVGPlotTests {
    static func isWellFormedXML(_ text: String) -> Bool {
        XMLParser(data: Data(text.utf8)).parse()
    }

    @Test func rendersWellFormedSVGWithLabelsAndLegend() {
        var plot = SVGPlot(title: "A <title> & more", xLabel: "density", yLabel: "accuracy (%)", xLog: true)
        plot.series = [.init(name: "ntt", points: [.init(x: 0.01, y: 80, error: 1), .init(x: 0.1, y: 88, error: 0.5)]),
                       .init(name: "dense", points: [.init(x: 0.01, y: 89), .init(x: 0.1, y: 89)],
                             dashed: true, markers: false)]
        let svg = plot.render()
        #expect(Self.isWellFormedXML(svg))
        #expect(svg.contains("A &lt;title&gt; &amp; more") && svg.contains(">density<")
                && svg.contains(">accuracy (%)<"))
        #expect(svg.contains(">ntt<") && svg.contains(">dense<") && svg.contains("stroke-dasharray"))
        // Two series: two polylines; two error bars; markers only on the first.
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.components(separatedBy: "<circle").count == 3)
        #expect(Self.isWellFormedXML(SVGPlot(title: "empty", xLabel: "x", yLabel: "y").render()))
    }

    @Test func axesHaveRoundTicksCoveringTheData() {
        let linear = SVGPlot.Axis(low: 0.13, high: 0.87, log: false)
        #expect(linear.ticks == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
        #expect(linear.lowValue <= 0.13 && linear.highValue >= 0.87)
        let percent = SVGPlot.Axis(low: 80, high: 99.5, log: false, limit: 100)
        #expect(percent.highValue == 100 && percent.ticks.last == 100)
        let log = SVGPlot.Axis(low: 0.01, high: 0.1, log: true)
        #expect(log.ticks == [0.01, 0.02, 0.05, 0.1])
        let wide = SVGPlot.Axis(low: 3, high: 5000, log: true)
        #expect(wide.ticks == [10, 100, 1000])
        #expect(abs(log.fraction(0.01) - (1 - log.fraction(0.1))) < 1e-12)  // symmetric padding
        #expect(SVGPlot.Axis.label(0.030000000001) == "0.03" && SVGPlot.Axis.label(2e-5) == "2e-05"
                && SVGPlot.Axis.label(100) == "100")
    }
}

struct ExperimentReportTests {
    @Test func meanAndSampleStd() {
        let (m, s) = ExperimentReport.meanAndStd([0.8, 0.9, 1.0])
        #expect(abs(m - 0.9) < 1e-12 && abs(s - 0.1) < 1e-12)
        #expect(ExperimentReport.meanAndStd([0.5]) == (0.5, 0))
        let curve = ExperimentReport.meanCurve([[(0, 1), (100, 3), (200, 5)], [(0, 3), (100, 5)]])
        #expect(curve == [.init(x: 0, y: 2), .init(x: 100, y: 4)])
    }

    /// A fake experiment folder with finished and unfinished cells, as cells write them.
    static func makeExperiment() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        let layout = ExperimentLayout(root: root)
        func finish(_ cell: ExperimentCell, accuracy: Double?, curve: [(Int, Double)]) throws {
            let folder = layout.folder(cell)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var r = CellResult(cell: cell, iterations: curve.last?.0 ?? 0, seconds: 2, keptPerLayer: [3, 1],
                               weightsPerLayer: [30, 10])
            var lines = Data()
            if cell.kind == .train {
                r.testAccuracy = accuracy; r.trainAccuracy = accuracy
                if !cell.initialization.isDense {  // as a sparse cell against its dense reference
                    let scale = cell.initialization == .ntt ? 1.0 : 10.0
                    r.initialNtkDistance = scale * Double(cell.seed + 1); r.initialTargetDistance = scale / 10
                    r.trajectory = [0, 50, 100].map {
                        ProbeComparison(iteration: $0, outputDistance: scale * Double(1 + $0 + Int(cell.seed)),
                                        agreement: 0.5)
                    }
                } else {
                    r.initialNtkDistance = 0; r.initialTargetDistance = 0
                }
                for (i, (t, a)) in curve.enumerated() {
                    lines.append(try RunJSON.line(TrainRecord(iteration: t, epoch: 0, loss: 1, trainAccuracy: a,
                                                              testAccuracy: a, final: i == curve.count - 1)))
                }
            } else {
                r.ntkDistanceBefore = curve.first?.1; r.ntkDistanceAfter = curve.last?.1
                r.targetDistanceBefore = 1; r.targetDistanceAfter = 0.5
                for (t, d) in curve {
                    lines.append(try RunJSON.line(TransferRecord(iteration: t, transferLoss: d, ntkDistance: d,
                                                                 targetDistance: 1, l2: 0)))
                }
            }
            try lines.write(to: folder.appendingPathComponent("metrics.jsonl"))
            try RunFolder(folder).writeDone(r)
        }
        let model = "lenet-300-100", data = "synthetic"
        for seed: UInt64 in [0, 1] {
            try finish(ExperimentCell(kind: .transfer, model: model, dataset: data, density: 0.1,
                                      initialization: .ntt, seed: seed),
                       accuracy: nil, curve: [(0, 100), (100, 10)])
            try finish(ExperimentCell(kind: .train, model: model, dataset: data, density: 0.1,
                                      initialization: .ntt, seed: seed),
                       accuracy: seed == 0 ? 0.8 : 0.9, curve: [(50, 0.5), (100, 0.7)])
            try finish(ExperimentCell(kind: .train, model: model, dataset: data, density: 0.1,
                                      initialization: .pruning(.random), seed: seed),
                       accuracy: 0.6, curve: [(50, 0.4), (100, 0.6)])
            try finish(ExperimentCell(kind: .train, model: model, dataset: data, density: 1,
                                      initialization: .pruning(.dense), seed: seed),
                       accuracy: 0.95, curve: [(50, 0.9), (100, 0.95)])
        }
        // Unfinished: a folder without done.json is ignored.
        let unfinished = ExperimentCell(kind: .train, model: model, dataset: data, density: 0.1,
                                        initialization: .pruning(.snip), seed: 0)
        try FileManager.default.createDirectory(at: layout.folder(unfinished), withIntermediateDirectories: true)
        return root
    }

    @Test func aggregatesFinishedCellsIntoAllOutputs() throws {
        let root = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(at: root) }
        let report = try ExperimentReport(root: root)
        #expect(report.trains.count == 6 && report.transfers.count == 2)
        let ntt = report.summaries.first { $0.initialization == .ntt }!
        #expect(ntt.seeds == 2 && abs(ntt.testAccuracyMean - 0.85) < 1e-12
                && abs(ntt.testAccuracyStd - 0.0707106781) < 1e-8)
        #expect(report.summaries.map(\.initialization.name) == ["ntt", "random", "dense"])
        let table = report.accuracyTable()
        #expect(table.contains("| ntt | 85.00 ± 7.07 (2) |")
                && table.contains("| dense (d = 1) | 95.00 ± 0.00 (2) |"))

        try report.write()
        for file in ["report.md", "report.html", "results.csv", "results.json", "figures/accuracy-vs-density.svg",
                     "figures/accuracy-vs-iteration-d0.1.svg", "figures/transfer-distances.svg",
                     "figures/output-distance-d0.1.svg"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "\(file)")
        }
        // Output distance to the dense run vs iteration: one line per sparse initialisation, mean ± std.
        let distances = try String(contentsOf: root.appendingPathComponent("figures/output-distance-d0.1.svg"),
                                   encoding: .utf8)
        #expect(SVGPlotTests.isWellFormedXML(distances))
        #expect(distances.contains(">ntt<") && distances.contains(">random<") && !distances.contains(">dense<"))
        #expect(distances.components(separatedBy: "<polyline").count == 3)
        let curve = report.outputDistanceVsIteration(.init(model: "lenet-300-100", dataset: "synthetic"),
                                                     density: 0.1).series[1].points
        #expect(curve.map(\.x) == [0, 50, 100] && curve.map(\.y) == [15, 515, 1015]
                && curve.allSatisfy { abs(($0.error ?? 0) - 10 * 0.5.squareRoot()) < 1e-9 })
        let csv = try String(contentsOf: root.appendingPathComponent("results.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(csv.count == 7 && csv[0].hasPrefix("model,dataset,initialization,density,seed,test_accuracy"))
        #expect(csv[0].hasSuffix(",initial_ntk_distance,initial_target_distance,final_output_distance,final_agreement"))
        #expect(csv.contains {
            $0.hasPrefix("lenet-300-100,synthetic,ntt,0.1,0,0.8,") && $0.hasSuffix(",1.0,0.1,101.0,0.5")
        })
        // Initial NTK distance against final accuracy: ntt 1, 2 → 80%, 90%; random 10, 20 → 60%, 60%.
        // scipy.stats.spearmanr([1, 2, 10, 20], [0.8, 0.9, 0.6, 0.6]) = -0.7378647873726218.
        let kernel = try #require(report.kernelTables(.init(model: "lenet-300-100", dataset: "synthetic")).first)
        #expect(kernel.density == 0.1 && kernel.cells == 4 && abs(kernel.rho! - -0.7378647873726218) < 1e-12)
        #expect(kernel.table.rows.map(\.first!) == ["ntt", "random"])
        #expect(kernel.table.rows[0] == ["ntt", "1.5 ± 0.71", "101.5 ± 0.71", "50.00 ± 0.00", "85.00 ± 7.07", "2"])
        // NTT 80%, 90% against random 60%, 60% on seeds 0 and 1: ahead by 20 and 30 points.
        let comparison = try #require(report.comparisonTable(.init(model: "lenet-300-100", dataset: "synthetic")))
        #expect(comparison.header == ["NTT vs", "d = 0.1"])
        #expect(comparison.rows == [["random", "+25.00 ± 7.07, 2/2: win"]])
        let html = try String(contentsOf: root.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.components(separatedBy: "<svg").count == 5 && html.contains("<table>")
                && !html.contains("src=\"http"))
        let md = try String(contentsOf: root.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(md.contains("over 4 cells (initialisations × seeds): ρ = -0.738."))
        #expect(md.contains("100 → 10 (10.0× lower)") && md.contains("![")
                && md.contains("| 0.1 | ntt, random | 3/30, 1/10 |"))
        #expect(md.contains("### NTT against each method\n") && md.contains("| random | +25.00 ± 7.07, 2/2: win |"))
        let jsonData = try Data(contentsOf: root.appendingPathComponent("results.json"))
        let json = try JSONSerialization.jsonObject(with: jsonData) as! [String: Any]
        #expect((json["train"] as! [Any]).count == 6 && (json["summary"] as! [Any]).count == 3)
    }

    @Test func verdictsFollowThePlainRule() {
        typealias C = ExperimentReport.Comparison
        #expect(C(differences: [1.5, 0.2, 3]).verdict == "win" && C(differences: [1.5, 0.2, 3]).ahead == 3)
        #expect(C(differences: [-1, -0.1]).verdict == "loss")
        #expect(C(differences: [2, -0.5, 1]).verdict == "tie" && C(differences: [2, -0.5, 1]).ahead == 2)
        #expect(C(differences: [0, 1, 2]).verdict == "tie")  // an equal seed is not a win
        #expect(C(differences: [5]).verdict == nil && C(differences: []).verdict == nil)
    }

    /// Names come from users (model specs, and done.json files copied from anywhere): they are
    /// escaped for Markdown and HTML, quoted for CSV; a broken metrics file is named, and
    /// nothing is written when the report cannot be made.
    @Test func hostileNamesAndBrokenFilesAreHandled() throws {
        let root = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(at: root) }
        let layout = ExperimentLayout(root: root)
        let hostile = "dense(8),<script>alert(1)</script>|x,\"=cmd\"\nrow"
        // A hostile model name, and a denormal density beside the normal ones of lenet-300-100.
        let cells = [ExperimentCell(kind: .train, model: hostile, dataset: "synthetic", density: 0.1,
                                    initialization: .pruning(.random), seed: 0),
                     ExperimentCell(kind: .train, model: "lenet-300-100", dataset: "synthetic", density: 1e-320,
                                    initialization: .pruning(.random), seed: 0)]
        var folder = RunFolder(root)
        for cell in cells {
            folder = RunFolder(layout.folder(cell))
            try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
            let log = try folder.metrics()
            try log.append(TrainRecord(iteration: 10, epoch: 0, loss: 1, trainAccuracy: 0.5, testAccuracy: 0.5,
                                       final: true))
            var result = CellResult(cell: cell, iterations: 10, seconds: 1, keptPerLayer: [1], weightsPerLayer: [2])
            result.testAccuracy = 0.5
            try folder.writeDone(result)
        }
        try ExperimentReport(root: root).write()
        let md = try String(contentsOf: root.appendingPathComponent("report.md"), encoding: .utf8)
        let html = try String(contentsOf: root.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(!md.contains("<script>") && !html.contains("<script>") && html.contains("&lt;script&gt;"))
        #expect(md.contains("\\|x"))  // the pipe cannot end a table cell
        let csv = try String(contentsOf: root.appendingPathComponent("results.csv"), encoding: .utf8)
        #expect(csv.contains("\"dense(8),<script>alert(1)</script>|x,\"\"=cmd\"\"\nrow\""))
        for figure in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("figures").path) {
            let svg = try String(contentsOf: root.appendingPathComponent("figures/" + figure), encoding: .utf8)
            #expect(!svg.contains("nan") && !svg.contains("inf"), "\(figure)")
        }
        // A cell whose metrics are gone: the error names the file, and no output is touched.
        try FileManager.default.removeItem(at: folder.file(RunFolder.metricsName))
        try FileManager.default.removeItem(at: root.appendingPathComponent("figures"))
        #expect {
            try ExperimentReport(root: root).write()
        } throws: { "\($0)".contains(folder.file(RunFolder.metricsName).path) }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("figures").path))
        #expect(ReportTable(header: ["a"], rows: [["=1+2"], ["-3"], ["@x"]]).csv == "a\n'=1+2\n-3\n'@x\n")
    }
}
