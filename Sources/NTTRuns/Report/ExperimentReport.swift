import Foundation
import NeuralTangentTransfer

/// Aggregates an experiment's finished cells (every `done.json` under `cells/`, from however
/// many machines) into `report.md`, a self-contained `report.html`, `figures/*.svg`,
/// `results.csv` and `results.json`. Markdown and HTML are rendered from one `ReportDocument`.
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
        public var model: String, dataset: String
        public var initialization: InitializationMethod
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
    func initializations(_ s: Setting) -> [InitializationMethod] {
        let present = Set(trains.filter { matches($0.result.cell, s) }.map(\.result.cell.initialization))
        return InitializationMethod.all.filter(present.contains)
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
                    out.append(Summary(model: s.model, dataset: s.dataset, initialization: i, density: d,
                                       seeds: values.count, testAccuracyMean: m, testAccuracyStd: sd))
                }
            }
        }
        return out
    }

    // MARK: Tables

    /// The accuracy tables as Markdown, one per model and dataset under a caption line.
    public func accuracyTable() -> String {
        let text = settings.map { s in
            accuracyTable(for: s).map {
                "\(s.model) on \(s.dataset): final test accuracy (%), mean ± std over seeds (n)\n\n"
                    + $0.markdown + "\n"
            } ?? ""
        }.joined()
        return text.isEmpty ? "no finished training cells yet\n" : text
    }

    /// Mean ± std test accuracy (initialisations × densities) of one model and dataset, or nil if
    /// none of its training cells finished.
    func accuracyTable(for s: Setting) -> ReportTable? {
        let rows = summaries.filter { $0.model == s.model && $0.dataset == s.dataset }
        guard !rows.isEmpty else { return nil }
        let densities = Set(rows.filter { !$0.initialization.isDense }.map(\.density)).sorted()
        var table = ReportTable(header: ["initialisation"] + densities.map { "d = \($0)" })
        for i in initializations(s) {
            let cells = densities.map { d -> String in
                guard let r = rows.first(where: { $0.initialization == i && ($0.density == d || i.isDense) }) else {
                    return "–"
                }
                return String(format: "%.2f ± %.2f (%d)", r.testAccuracyMean * 100, r.testAccuracyStd * 100, r.seeds)
            }
            table.rows.append([i.name + (i.isDense ? " (d = 1)" : "")] + cells)
        }
        return table
    }

    /// Kept weights per layer at each density (first seed); initialisations with identical
    /// counts share a row.
    func keptTable(_ s: Setting) -> ReportTable {
        var table = ReportTable(header: ["density", "initialisations", "kept / weights per layer"])
        let cells = (trains + transfers).map(\.result).filter {
            matches($0.cell, s) && !($0.cell.kind == .train && $0.cell.initialization == .ntt)
        }
        let order = InitializationMethod.all
        for d in Set(cells.map(\.cell.density)).sorted() {
            var rows: [(kept: String, names: [InitializationMethod])] = []
            for r in cells.filter({ $0.cell.density == d }).sorted(by: { $0.cell.seed < $1.cell.seed }) {
                let name = r.cell.initialization
                let kept = zip(r.keptPerLayer, r.weightsPerLayer).map { "\($0)/\($1)" }.joined(separator: ", ")
                if rows.contains(where: { $0.names.contains(name) }) { continue }  // first seed only
                if let i = rows.firstIndex(where: { $0.kept == kept }) {
                    rows[i].names.append(name)
                } else {
                    rows.append((kept, [name]))
                }
            }
            for row in rows {
                let names = row.names.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }
                table.rows.append([String(d), names.map(\.name).joined(separator: ", "), row.kept])
            }
        }
        return table
    }

    func hasTrajectories(_ s: Setting, density: Double) -> Bool {
        trains.map(\.result).contains { matches($0.cell, s) && $0.cell.density == density && $0.trajectory != nil }
    }

    /// Per density: each initialisation's NTK distance to the dense network at the start, its final
    /// output distance and agreement with the dense run, and its final test accuracy (mean ± std over
    /// seeds), with Spearman's ρ between initial NTK distance and final test accuracy over every
    /// cell (initialisations × seeds) at that density.
    func kernelTables(_ s: Setting) -> [(density: Double, table: ReportTable, rho: Double?, cells: Int)] {
        let sparse = trains.map(\.result).filter {
            matches($0.cell, s) && !$0.cell.initialization.isDense && $0.initialNtkDistance != nil
        }
        return Set(sparse.map(\.cell.density)).sorted().map { d in
            var table = ReportTable(header: ["initialisation", "initial NTK distance", "final output distance",
                                             "final agreement (%)", "final test accuracy (%)", "seeds"])
            let mine = sparse.filter { $0.cell.density == d && $0.testAccuracy != nil }
            func cell(_ values: [Double], _ scale: Double = 1, _ format: String = "%.4g ± %.2g") -> String {
                guard !values.isEmpty else { return "–" }
                let (m, sd) = Self.meanAndStd(values.map { $0 * scale })
                return String(format: format, m, sd)
            }
            for i in initializations(s) where !i.isDense {
                let cells = mine.filter { $0.cell.initialization == i }
                guard !cells.isEmpty else { continue }
                let last = cells.compactMap { $0.trajectory?.last }
                table.rows.append([i.name, cell(cells.compactMap(\.initialNtkDistance)),
                                   cell(last.map(\.outputDistance)), cell(last.map(\.agreement), 100, "%.2f ± %.2f"),
                                   cell(cells.compactMap(\.testAccuracy), 100, "%.2f ± %.2f"), String(cells.count)])
            }
            let rho = RankCorrelation.spearman(mine.map { $0.initialNtkDistance! }, mine.map { $0.testAccuracy! })
            return (d, table, rho, mine.count)
        }
    }

    func transferTable(_ s: Setting) -> ReportTable {
        var table = ReportTable(header: ["density", "seeds", "iterations", "NTK distance before → after",
                                         "output distance before → after", "time per run"])
        let cells = transfers.filter { matches($0.result.cell, s) }.map(\.result)
        for d in Set(cells.map(\.cell.density)).sorted() {
            let mine = cells.filter { $0.cell.density == d }
            func mean(_ k: KeyPath<CellResult, Double?>) -> Double {
                Self.meanAndStd(mine.compactMap { $0[keyPath: k] }).mean
            }
            table.rows.append([
                String(d), String(mine.count), String(mine.first?.iterations ?? 0),
                String(format: "%.4g → %.4g (%.1f× lower)", mean(\.ntkDistanceBefore), mean(\.ntkDistanceAfter),
                       mean(\.ntkDistanceBefore) / mean(\.ntkDistanceAfter)),
                String(format: "%.4g → %.4g", mean(\.targetDistanceBefore), mean(\.targetDistanceAfter)),
                String(format: "%.0f s", Self.meanAndStd(mine.map(\.seconds)).mean),
            ])
        }
        return table
    }

    /// One row per finished training cell.
    public func resultsTable() -> ReportTable {
        var table = ReportTable(header: ["model", "dataset", "initialization", "density", "seed", "test_accuracy",
                                         "train_accuracy", "iterations", "seconds", "kept", "weights", "scope",
                                         "initial_ntk_distance", "initial_target_distance", "final_output_distance",
                                         "final_agreement"])
        func text(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        for (_, r) in trains {
            table.rows.append([r.cell.model, r.cell.dataset, r.cell.initialization.name, String(r.cell.density),
                               String(r.cell.seed), text(r.testAccuracy), text(r.trainAccuracy), String(r.iterations),
                               String(format: "%.2f", r.seconds),
                               String(r.keptPerLayer.reduce(0, +)), String(r.weightsPerLayer.reduce(0, +)),
                               r.pruneScope?.rawValue ?? "", text(r.initialNtkDistance), text(r.initialTargetDistance),
                               text(r.trajectory?.last?.outputDistance), text(r.trajectory?.last?.agreement)])
        }
        return table
    }

    public func csv() -> String { resultsTable().csv }

    // MARK: Figures

    func accuracyVsDensity(_ s: Setting) -> SVGPlot {
        var plot = SVGPlot(title: "\(s.model) on \(s.dataset): accuracy after training",
                           xLabel: "density (fraction of weights kept, log scale)",
                           yLabel: "final test accuracy (%)", xLog: true)
        plot.yLimit = 100
        let rows = summaries.filter { $0.model == s.model && $0.dataset == s.dataset }
        let densities = rows.filter { !$0.initialization.isDense }.map(\.density)
        for i in initializations(s) {
            let mine = rows.filter { $0.initialization == i }
            if i.isDense, let r = mine.first, let lo = densities.min(), let hi = densities.max() {
                plot.series.append(.init(name: "dense (d = 1)",
                                         points: [lo, hi].map { .init(x: $0, y: r.testAccuracyMean * 100) },
                                         dashed: true, markers: false))
            } else {
                plot.series.append(.init(name: i.name, points: mine.map {
                    .init(x: $0.density, y: $0.testAccuracyMean * 100, error: $0.testAccuracyStd * 100)
                }))
            }
        }
        return plot
    }

    /// Reads a cell's metrics; the error names the file.
    func metrics<T: Decodable>(_ type: T.Type, of folder: URL) throws -> [T] {
        try RunFolder(folder).readMetrics(type)
    }

    /// Mean test accuracy over seeds at each evaluation, per initialisation, at one density
    /// (dense included). Periodic points use a fixed 2000-example test subset; the last the whole set.
    func accuracyVsIteration(_ s: Setting, density: Double) throws -> SVGPlot {
        var plot = SVGPlot(title: "\(s.model) on \(s.dataset), density \(density): training",
                           xLabel: "training iteration", yLabel: "test accuracy (%)")
        plot.yLimit = 100
        for i in initializations(s) {
            let cells = trains.filter {
                matches($0.result.cell, s) && $0.result.cell.initialization == i
                    && ($0.result.cell.density == density || i.isDense)
            }
            let curves = try cells.map { try metrics(TrainRecord.self, of: $0.folder) }
            let points = Self.meanCurve(curves.map { $0.map { ($0.iteration, $0.testAccuracy * 100) } })
            plot.series.append(.init(name: i.name, points: points, dashed: i.isDense, markers: false))
        }
        return plot
    }

    /// Sparse training cells at one density: their output distance to the dense run of their seed
    /// (trained in lockstep) on the test probe at each evaluation, mean ± std over seeds per initialisation.
    func outputDistanceVsIteration(_ s: Setting, density: Double) -> SVGPlot {
        var plot = SVGPlot(title: "\(s.model) on \(s.dataset), density \(density): distance to the dense run",
                           xLabel: "training iteration",
                           yLabel: "output distance Σ(f − f_dense)²/|f| (log scale)", yLog: true)
        for i in initializations(s) where !i.isDense {
            let curves = trains.map(\.result).filter {
                matches($0.cell, s) && $0.cell.initialization == i && $0.cell.density == density
            }.compactMap(\.trajectory).map { $0.map { ($0.iteration, $0.outputDistance) } }
            guard !curves.isEmpty else { continue }
            plot.series.append(.init(name: i.name, points: Self.meanCurve(curves, errorBars: 10), markers: false,
                                     color: InitializationMethod.all.firstIndex(of: i)))
        }
        return plot
    }

    func transferDistances(_ s: Setting) throws -> SVGPlot {
        var plot = SVGPlot(title: "\(s.model) on \(s.dataset): transfer, on the probe batch (mean over seeds)",
                           xLabel: "transfer iteration", yLabel: "distance to the teacher (log scale)", yLog: true)
        let cells = transfers.filter { matches($0.result.cell, s) }
        for (k, d) in Set(cells.map(\.result.cell.density)).sorted().enumerated() {
            let curves = try cells.filter { $0.result.cell.density == d }
                .map { try metrics(TransferRecord.self, of: $0.folder) }
            let ntkCurve = Self.meanCurve(curves.map { $0.map { ($0.iteration, $0.ntkDistance) } })
            let outputCurve = Self.meanCurve(curves.map { $0.map { ($0.iteration, $0.targetDistance) } })
            plot.series.append(.init(name: "NTK, d = \(d)", points: ntkCurve, markers: false, color: k))
            plot.series.append(.init(name: "output, d = \(d)", points: outputCurve,
                                     dashed: true, markers: false, color: k))
        }
        return plot
    }

    /// The mean over curves at the iterations all of them share; with `errorBars` > 0, the sample
    /// std over curves as error bars on about that many evenly spaced points (more would hide the lines).
    static func meanCurve(_ curves: [[(Int, Double)]], errorBars: Int = 0) -> [SVGPlot.Point] {
        guard let first = curves.first else { return [] }
        let shared = curves.dropFirst().reduce(Set(first.map(\.0))) { $0.intersection($1.map(\.0)) }.sorted()
        let every = errorBars > 0 ? max(1, (shared.count + errorBars - 1) / errorBars) : 0
        return shared.enumerated().map { n, t in
            let (mean, std) = meanAndStd(curves.map { c in c.first { $0.0 == t }!.1 })
            let bar = every > 0 && (n % every == 0 || n == shared.count - 1) && curves.count > 1
            return SVGPlot.Point(x: Double(t), y: mean, error: bar ? std : nil)
        }
    }

    /// Figures in display order, with file names.
    func figures() throws -> [(section: Setting, file: String, plot: SVGPlot)] {
        var out: [(Setting, String, SVGPlot)] = []
        for (n, s) in settings.enumerated() {
            let prefix = settings.count > 1 ? "\(n + 1)-" : ""
            if trains.contains(where: { matches($0.result.cell, s) }) {
                out.append((s, prefix + "accuracy-vs-density.svg", accuracyVsDensity(s)))
                let densities = Set(trains.filter {
                    matches($0.result.cell, s) && !$0.result.cell.initialization.isDense
                }.map(\.result.cell.density)).sorted()
                for d in densities {
                    out.append((s, prefix + "accuracy-vs-iteration-d\(d).svg", try accuracyVsIteration(s, density: d)))
                    if hasTrajectories(s, density: d) {
                        out.append((s, prefix + "output-distance-d\(d).svg", outputDistanceVsIteration(s, density: d)))
                    }
                }
            }
            if transfers.contains(where: { matches($0.result.cell, s) }) {
                out.append((s, prefix + "transfer-distances.svg", try transferDistances(s)))
            }
        }
        return out
    }

    // MARK: Files

    struct ResultsFile: Codable {
        var summary: [Summary]
        var train: [CellResult]
        var transfer: [CellResult]
        var toolVersion = NTTVersion.current
    }

    static let kernelNote = "Initial NTK distance: Σ(Θ_s − Θ_d)²/|Θ| between each sparse initialisation and the "
        + "dense network with the same initial weights (the transfer's teacher for that seed) on the transfer's "
        + "probe batch, normalised as the transfer's own NTK distance. Output distance Σ(f_s − f_d)²/|f| and "
        + "agreement (the fraction of inputs where both predict the same class): against the dense training cell of "
        + "the same seed, trained in lockstep (same data order), on the first \(ProbeOutputs.probeSize) test inputs "
        + "after the last iteration. Mean ± std over seeds."

    /// The report as one document (figures rendered), for Markdown and HTML alike.
    func document(figures: [(section: Setting, file: String, title: String, svg: String)]) -> ReportDocument {
        var doc = ReportDocument(title: "Experiment report")
        let asOf = ISO8601DateFormatter().string(from: Date())
        doc.blocks.append(.paragraph("\(trains.count) training cells and \(transfers.count) transfer cells finished "
                                     + "(as of \(asOf), ntt \(NTTVersion.current))."))
        for s in settings {
            doc.blocks.append(.heading(level: 2, text: "\(s.model) on \(s.dataset)"))
            let scopes = Dictionary(grouping: trains.map(\.result).filter { matches($0.cell, s) },
                                    by: \.cell.initialization).compactMapValues { $0.first?.pruneScope }
            let scopeList = initializations(s).compactMap { i in scopes[i].map { "\(i.name) \($0.rawValue)" } }
            if !scopeList.isEmpty {
                doc.blocks.append(.paragraph("Pruning scope: " + scopeList.joined(separator: ", ") + "."))
            }
            if let table = accuracyTable(for: s) {
                doc.blocks += [.heading(level: 3, text: "Final test accuracy"),
                               .paragraph("Mean ± std over seeds (number of seeds)."), .table(table)]
            }
            if let table = comparisonTable(s) {
                doc.blocks += [.heading(level: 3, text: "NTT against each method"),
                               .paragraph(Self.comparisonNote), .table(table)]
            }
            let kernels = kernelTables(s)
            if !kernels.isEmpty {
                doc.blocks += [.heading(level: 3, text: "Distance to the dense network"),
                               .paragraph(Self.kernelNote)]
                for k in kernels {
                    let rho = k.rho.map { String(format: "ρ = %.3f", $0) }
                        ?? "ρ undefined (fewer than 3 cells, or all values equal)"
                    doc.blocks += [.paragraph("d = \(k.density): Spearman's rank correlation between initial NTK "
                                              + "distance and final test accuracy over \(k.cells) cells "
                                              + "(initialisations × seeds): \(rho)."), .table(k.table)]
                }
            }
            if transfers.contains(where: { matches($0.result.cell, s) }) {
                doc.blocks += [.heading(level: 3, text: "Transfer"), .table(transferTable(s))]
            }
            let kept = keptTable(s)
            if !kept.rows.isEmpty {
                doc.blocks += [.heading(level: 3, text: "Kept weights per layer (first seed)"), .table(kept)]
            }
            doc.blocks.append(.heading(level: 3, text: "Figures"))
            for f in figures where f.section == s {
                doc.blocks.append(.figure(title: f.title, file: "figures/" + f.file, svg: f.svg))
            }
        }
        let notes = "Periodic accuracies during training are on fixed 2000-example subsets; final accuracies "
            + "on the whole test set. Distances are on the transfer run's probe batch. Raw numbers: "
            + "results.csv, results.json; every cell's files: cells/."
        doc.blocks.append(.paragraph(notes))
        return doc
    }

    /// Writes every output atomically; returns the HTML report's path. Everything is computed
    /// (every metrics file read) before the first file is written.
    @discardableResult
    public func write() throws -> URL {
        let figures = try figures().map {
            (section: $0.section, file: $0.file, title: $0.plot.title, svg: $0.plot.render())
        }
        let doc = document(figures: figures)
        let results = ResultsFile(summary: summaries, train: trains.map(\.result), transfer: transfers.map(\.result))
        let resultsJSON = try RunJSON.encoder.encode(results)  // before any write: a value may not be JSON
        let folder = RunFolder(root)
        let figuresFolder = try folder.subfolder("figures")
        for f in figures { try figuresFolder.writeText(f.svg, to: f.file) }
        try folder.writeText(csv(), to: "results.csv")
        try AtomicFile.write(resultsJSON, to: folder.file("results.json").path)
        try folder.writeText(doc.markdown, to: "report.md")
        try folder.writeText(doc.html, to: "report.html")
        return folder.file("report.html")
    }
}
