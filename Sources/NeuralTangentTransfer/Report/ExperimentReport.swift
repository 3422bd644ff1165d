import Foundation

/// Aggregates an experiment's finished cells (every `done.json` under `cells/`, from however
/// many machines) into `report.md`, a self-contained `report.html`, `figures/*.svg`,
/// `results.csv` and `results.json`.
public struct ExperimentReport {
    public let root: URL
    public let trains: [(folder: URL, result: CellResult)]
    public let transfers: [(folder: URL, result: CellResult)]
    /// Mean and std of the final test accuracy per model, dataset, initialisation and density.
    public private(set) var summaries: [Summary] = []

    public init(root: URL) throws {
        self.root = root
        let all = try CellResult.all(under: ExperimentLayout(root: root).cellsRoot)
        trains = all.filter { $0.result.cell.kind == .train }
        transfers = all.filter { $0.result.cell.kind == .transfer }
        summaries = makeSummaries()
    }

    /// Mean and sample standard deviation over seeds.
    public struct Summary: Codable, Equatable, Sendable {
        public var model: String, dataset: String, initialization: String
        public var density: Double
        public var seeds: Int
        public var testAccuracyMean: Double, testAccuracyStd: Double
    }

    public static func meanAndStd(_ values: [Double]) -> (mean: Double, std: Double) {
        guard !values.isEmpty else { return (.nan, .nan) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }

    struct Setting: Hashable, Comparable {
        let model: String, dataset: String
        static func < (a: Setting, b: Setting) -> Bool { (a.model, a.dataset) < (b.model, b.dataset) }
    }

    var settings: [Setting] {
        Set((trains + transfers).map { Setting(model: $0.result.cell.model, dataset: $0.result.cell.dataset) }).sorted()
    }

    /// Initialisations in a stable order: ntt first, dense last, the rest as in the method list.
    func initializations(_ s: Setting) -> [String] {
        let present = Set(trains.filter { matches($0.result.cell, s) }.map(\.result.cell.initialization))
        let order = ["ntt"] + PruningMethod.allCases.map(\.rawValue)
        return order.filter(present.contains) + present.subtracting(order).sorted()
    }

    func matches(_ c: ExperimentCell, _ s: Setting) -> Bool { c.model == s.model && c.dataset == s.dataset }

    private func makeSummaries() -> [Summary] {
        var out: [Summary] = []
        for s in settings {
            for i in initializations(s) {
                let cells = trains.filter { matches($0.result.cell, s) && $0.result.cell.initialization == i }
                for d in Set(cells.map(\.result.cell.density)).sorted() {
                    let values = cells.filter { $0.result.cell.density == d }.compactMap(\.result.testAccuracy)
                    let (m, sd) = Self.meanAndStd(values)
                    out.append(Summary(model: s.model, dataset: s.dataset, initialization: i, density: d, seeds: values.count,
                                       testAccuracyMean: m, testAccuracyStd: sd))
                }
            }
        }
        return out
    }

    /// Markdown tables of mean ± std test accuracy (initialisations × densities), one per
    /// model and dataset, each under a caption line.
    public func accuracyTable() -> String {
        let text = settings.map { s in
            accuracyTable(for: s).map { "\(s.model) on \(s.dataset): final test accuracy (%), mean ± std over seeds (n)\n\n" + $0 + "\n" } ?? ""
        }.joined()
        return text.isEmpty ? "no finished training cells yet\n" : text
    }

    /// The accuracy table of one model and dataset, or nil if none of its training cells finished.
    func accuracyTable(for s: Setting) -> String? {
        let rows = summaries.filter { $0.model == s.model && $0.dataset == s.dataset }
        guard !rows.isEmpty else { return nil }
        let densities = Set(rows.filter { $0.initialization != "dense" }.map(\.density)).sorted()
        var text = "| initialisation | " + densities.map { "d = \($0)" }.joined(separator: " | ") + " |\n"
        text += "|---|" + String(repeating: "---|", count: densities.count) + "\n"
        for i in initializations(s) {
            let cells = densities.map { d -> String in
                guard let r = rows.first(where: { $0.initialization == i && ($0.density == d || i == "dense") }) else { return "–" }
                return String(format: "%.2f ± %.2f (%d)", r.testAccuracyMean * 100, r.testAccuracyStd * 100, r.seeds)
            }
            text += "| \(i)\(i == "dense" ? " (d = 1)" : "") | " + cells.joined(separator: " | ") + " |\n"
        }
        return text
    }

    // MARK: Figures

    func accuracyVsDensity(_ s: Setting) -> SVGPlot {
        var plot = SVGPlot(title: "\(s.model) on \(s.dataset): accuracy after training", xLabel: "density (fraction of weights kept, log scale)",
                           yLabel: "final test accuracy (%)", xLog: true)
        plot.yLimit = 100
        let rows = summaries.filter { $0.model == s.model && $0.dataset == s.dataset }
        let densities = rows.filter { $0.initialization != "dense" }.map(\.density)
        for i in initializations(s) {
            let mine = rows.filter { $0.initialization == i }
            if i == "dense", let r = mine.first, let lo = densities.min(), let hi = densities.max() {
                plot.series.append(.init(name: "dense (d = 1)", points: [lo, hi].map { .init(x: $0, y: r.testAccuracyMean * 100) },
                                         dashed: true, markers: false))
            } else {
                plot.series.append(.init(name: i, points: mine.map { .init(x: $0.density, y: $0.testAccuracyMean * 100, error: $0.testAccuracyStd * 100) }))
            }
        }
        return plot
    }

    /// Mean test accuracy over seeds at each evaluation, per initialisation, at one density
    /// (dense included). Periodic points use a fixed 2000-example test subset; the last the whole set.
    func accuracyVsIteration(_ s: Setting, density: Double) throws -> SVGPlot {
        var plot = SVGPlot(title: "\(s.model) on \(s.dataset), density \(density): training", xLabel: "training iteration",
                           yLabel: "test accuracy (%)")
        plot.yLimit = 100
        for i in initializations(s) {
            let cells = trains.filter { matches($0.result.cell, s) && $0.result.cell.initialization == i && ($0.result.cell.density == density || i == "dense") }
            let curves = try cells.map { try JSONLines.decode(TrainRecord.self, from: Data(contentsOf: $0.folder.appendingPathComponent("metrics.jsonl"))) }
            plot.series.append(.init(name: i, points: Self.meanCurve(curves.map { $0.map { ($0.iteration, $0.testAccuracy * 100) } }),
                                     dashed: i == "dense", markers: false))
        }
        return plot
    }

    func transferDistances(_ s: Setting) throws -> SVGPlot {
        var plot = SVGPlot(title: "\(s.model) on \(s.dataset): transfer, on the probe batch", xLabel: "transfer iteration",
                           yLabel: "distance to the teacher (log scale)", yLog: true)
        plot.title += " (mean over seeds)"
        let cells = transfers.filter { matches($0.result.cell, s) }
        for (k, d) in Set(cells.map(\.result.cell.density)).sorted().enumerated() {
            let curves = try cells.filter { $0.result.cell.density == d }.map {
                try JSONLines.decode(TransferRecord.self, from: Data(contentsOf: $0.folder.appendingPathComponent("metrics.jsonl")))
            }
            plot.series.append(.init(name: "NTK, d = \(d)", points: Self.meanCurve(curves.map { $0.map { ($0.iteration, $0.ntkDistance) } }),
                                     markers: false, color: k))
            plot.series.append(.init(name: "output, d = \(d)", points: Self.meanCurve(curves.map { $0.map { ($0.iteration, $0.targetDistance) } }),
                                     dashed: true, markers: false, color: k))
        }
        return plot
    }

    /// The mean over curves at the iterations all of them share.
    static func meanCurve(_ curves: [[(Int, Double)]]) -> [SVGPlot.Point] {
        guard let first = curves.first else { return [] }
        let shared = curves.dropFirst().reduce(Set(first.map(\.0))) { $0.intersection($1.map(\.0)) }
        return shared.sorted().map { t in
            let values = curves.map { c in c.first { $0.0 == t }!.1 }
            return SVGPlot.Point(x: Double(t), y: values.reduce(0, +) / Double(values.count))
        }
    }

    /// Kept weights per layer at each density (first seed); initialisations with identical
    /// counts share a row.
    func keptTable(_ s: Setting) -> String {
        var text = "| density | initialisations | kept / weights per layer |\n|---|---|---|\n"
        let cells = (trains + transfers).map(\.result).filter { matches($0.cell, s) && !($0.cell.kind == .train && $0.cell.initialization == "ntt") }
        for d in Set(cells.map(\.cell.density)).sorted() {
            var rows: [(kept: String, names: [String])] = []
            for r in cells.filter({ $0.cell.density == d }).sorted(by: { $0.cell.seed < $1.cell.seed }) {
                let name = r.cell.kind == .transfer ? "ntt" : r.cell.initialization
                let kept = zip(r.keptPerLayer, r.weightsPerLayer).map { "\($0)/\($1)" }.joined(separator: ", ")
                if rows.contains(where: { $0.names.contains(name) }) { continue }  // first seed only
                if let i = rows.firstIndex(where: { $0.kept == kept }) { rows[i].names.append(name) } else { rows.append((kept, [name])) }
            }
            let order = initializations(s)
            for row in rows {
                let names = row.names.sorted { (order.firstIndex(of: $0) ?? order.count, $0) < (order.firstIndex(of: $1) ?? order.count, $1) }
                text += "| \(d) | \(names.joined(separator: ", ")) | \(row.kept) |\n"
            }
        }
        return text
    }

    func transferTable(_ s: Setting) -> String {
        var text = "| density | seeds | iterations | NTK distance before → after | output distance before → after | time per run |\n|---|---|---|---|---|---|\n"
        let cells = transfers.filter { matches($0.result.cell, s) }.map(\.result)
        for d in Set(cells.map(\.cell.density)).sorted() {
            let mine = cells.filter { $0.cell.density == d }
            func mean(_ k: KeyPath<CellResult, Double?>) -> Double { Self.meanAndStd(mine.compactMap { $0[keyPath: k] }).mean }
            text += String(format: "| %@ | %d | %d | %.4g → %.4g (%.1f× lower) | %.4g → %.4g | %.0f s |\n", String(d), mine.count,
                           mine.first?.iterations ?? 0, mean(\.ntkDistanceBefore), mean(\.ntkDistanceAfter),
                           mean(\.ntkDistanceBefore) / mean(\.ntkDistanceAfter), mean(\.targetDistanceBefore), mean(\.targetDistanceAfter),
                           Self.meanAndStd(mine.map(\.seconds)).mean)
        }
        return text
    }

    // MARK: Files

    /// Figures in display order, with file names.
    func figures() throws -> [(section: Setting, file: String, plot: SVGPlot)] {
        var out: [(Setting, String, SVGPlot)] = []
        for (n, s) in settings.enumerated() {
            let prefix = settings.count > 1 ? "\(n + 1)-" : ""
            if trains.contains(where: { matches($0.result.cell, s) }) {
                out.append((s, prefix + "accuracy-vs-density.svg", accuracyVsDensity(s)))
                let densities = Set(trains.filter { matches($0.result.cell, s) && $0.result.cell.initialization != "dense" }.map(\.result.cell.density)).sorted()
                for d in densities { out.append((s, prefix + "accuracy-vs-iteration-d\(d).svg", try accuracyVsIteration(s, density: d))) }
            }
            if transfers.contains(where: { matches($0.result.cell, s) }) {
                out.append((s, prefix + "transfer-distances.svg", try transferDistances(s)))
            }
        }
        return out
    }

    public func csv() -> String {
        var text = "model,dataset,initialization,density,seed,test_accuracy,train_accuracy,iterations,seconds,kept,weights\n"
        for (_, r) in trains {
            let fields: [String] = [Self.csvField(r.cell.model), r.cell.dataset, r.cell.initialization, String(r.cell.density), String(r.cell.seed),
                                    r.testAccuracy.map { String($0) } ?? "", r.trainAccuracy.map { String($0) } ?? "",
                                    String(r.iterations), String(format: "%.2f", r.seconds),
                                    String(r.keptPerLayer.reduce(0, +)), String(r.weightsPerLayer.reduce(0, +))]
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    struct ResultsFile: Codable {
        var summary: [Summary]
        var train: [CellResult]
        var transfer: [CellResult]
        var toolVersion = NTTVersion.current
    }

    /// Writes every output atomically; returns the report's path.
    @discardableResult
    public func write() throws -> URL {
        let figuresFolder = root.appendingPathComponent("figures")
        try FileManager.default.createDirectory(at: figuresFolder, withIntermediateDirectories: true)
        let figures = try figures().map { (section: $0.section, file: $0.file, title: $0.plot.title, svg: $0.plot.render()) }
        for f in figures { try AtomicFile.writeText(f.svg, to: figuresFolder.appendingPathComponent(f.file).path) }
        try AtomicFile.writeText(csv(), to: root.appendingPathComponent("results.csv").path)
        let results = ResultsFile(summary: summaries, train: trains.map(\.result), transfer: transfers.map(\.result))
        try AtomicFile.write(try ExperimentConfig.encoder.encode(results), to: root.appendingPathComponent("results.json").path)

        var md = "# Experiment report\n\n\(trains.count) training cells and \(transfers.count) transfer cells finished "
        md += "(as of \(ISO8601DateFormatter().string(from: Date())), ntt \(NTTVersion.current)).\n\n"
        var html = md.replacingOccurrences(of: "# Experiment report\n\n", with: "")
        html = "<h1>Experiment report</h1>\n<p>\(SVGPlot.escape(html))</p>\n"
        for s in settings {
            md += "## \(s.model) on \(s.dataset)\n\n"
            html += "<h2>\(SVGPlot.escape(s.model)) on \(SVGPlot.escape(s.dataset))</h2>\n"
            let tables = [("Final test accuracy", accuracyTable(for: s).map { "Mean ± std over seeds (number of seeds).\n\n" + $0 } ?? ""),
                          ("Transfer", transfers.contains { matches($0.result.cell, s) } ? transferTable(s) : ""),
                          ("Kept weights per layer (first seed)", keptTable(s))].filter { !$0.1.isEmpty }
            for (heading, table) in tables {
                md += "### \(heading)\n\n\(table)\n"
                html += "<h3>\(heading)</h3>\n" + Self.htmlTable(table)
            }
            md += "### Figures\n\n"
            for f in figures where f.section == s {
                md += "![\(f.title)](figures/\(f.file))\n\n"
                html += "<figure>\(f.svg)</figure>\n"
            }
        }
        let note = "Periodic accuracies during training are on fixed 2000-example subsets; final accuracies on the whole test set. "
            + "Distances are on the transfer run's probe batch. Raw numbers: results.csv, results.json; every cell's files: cells/."
        md += note + "\n"
        html += "<p class=\"note\">\(SVGPlot.escape(note))</p>\n"
        try AtomicFile.writeText(md, to: root.appendingPathComponent("report.md").path)
        let page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>ntt experiment report</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
        table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
        th { background: #f3f3f3; } figure { margin: 1em 0; } .note { color: #666; font-size: 13px; }
        </style></head><body>
        \(html)</body></html>

        """
        let url = root.appendingPathComponent("report.html")
        try AtomicFile.writeText(page, to: url.path)
        return url
    }

    /// A Markdown pipe table (with an optional leading paragraph) as HTML.
    static func htmlTable(_ markdown: String) -> String {
        var html = "", inTable = false
        for line in markdown.split(separator: "\n") {
            guard line.hasPrefix("|") else { html += "<p>\(SVGPlot.escape(String(line)))</p>\n"; continue }
            if line.hasPrefix("|---") { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) }
            let tag = inTable ? "td" : "th"
            if !inTable { html += "<table>\n" }
            inTable = true
            html += "<tr>" + cells.map { "<\(tag)>\(SVGPlot.escape($0))</\(tag)>" }.joined() + "</tr>\n"
        }
        return html + (inTable ? "</table>\n" : "")
    }
}
