import ArgumentParser
import Foundation
import NeuralTangentTransfer

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The main job: NTT vs random, SNIP and dense on Fashion-MNIST with LeNet-300-100 at 3% density.",
        discussion: """
        Runs a transfer, then supervised training from the ntt, random, snip and dense \
        initialisations, prints a comparison table and writes a report folder (summary.json, \
        summary.md and every run's files). The defaults (the paper's 20 transfer epochs, 25 training \
        epochs) take about five minutes on two cores; --full trains for the paper's 50 epochs.
        """)

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @Option(help: "Report folder (default: runs/demo, or runs/demo-2, -3, … if that exists).") var out: String?
    @Flag(help: "Replace the report folder if it exists.") var overwrite = false
    @Option(help: "Model.") var model = "lenet-300-100"
    @Option(help: "Fraction of weights kept.") var density = 0.03
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Transfer epochs (default 20, the paper's).") var transferEpochs: Int?
    @Option(help: "Training epochs per initialisation (default 25; --full: 50).") var trainEpochs: Int?
    @Option(help: "Transfer iterations (overrides --transfer-epochs; for quick checks).") var transferIterations: Int?
    @Option(help: "Training iterations (overrides --train-epochs; for quick checks).") var trainIterations: Int?
    @Flag(help: "The paper's training budget: 50 epochs per initialisation.") var full = false
    @Option(parsing: .upToNextOption, help: "Initialisations to compare with ntt.") var baselines: [String] = ["random", "snip", "dense"]

    func validate() throws {
        guard density > 0 && density <= 1 else { throw ValidationError("--density must be in (0, 1], got \(density)") }
        for b in baselines where PruningMethod(rawValue: b) == nil {
            throw ValidationError("--baselines: unknown method '\(b)'; expected \(PruningMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    struct Row: Codable {
        let initialization: String
        let test_accuracy: Double
        let train_accuracy: Double
        let kept_per_layer: [Int]
        let seconds: Double
    }

    func run() throws { try compute.run(work) }

    private func work() throws {
        StopFlag.installSignalHandlers()
        let root = try OutputOptions.prepareDirectory(out ?? Self.freshDefaultFolder(), overwrite: overwrite)
        let started = Date()
        print("loading \(data.dataset) …")
        let dataset = try data.load()
        let options = InitializationSettings(model: model, density: density, seed: seed, prune: .layerwise)

        // 1. Transfer.
        var c = TransferConfig()
        c.model = model; c.dataset = data.dataset; c.dataDirectory = data.dataDir; c.density = density; c.seed = seed
        c.epochs = transferEpochs ?? 20; c.iterations = transferIterations
        let transferDirectory = root.appendingPathComponent("transfer")
        try FileManager.default.createDirectory(at: transferDirectory, withIntermediateDirectories: true)
        let transfer = try TransferRun(config: c, dataset: dataset, directory: transferDirectory)
        let bar = ProgressBar(total: transfer.totalIterations, label: "transfer")
        let transferStart = Date()
        guard try transfer.run(progress: { bar.update($0.iteration, status: String(format: "ntk %.4g", $0.ntkDistance)) }) == .finished else {
            bar.finish()
            throw NTTError("interrupted; the partial demo is in \(root.path)")
        }
        bar.finish()
        let transferSeconds = Date().timeIntervalSince(transferStart)
        let records = try JSONLines.decode(TransferRecord.self, from: Data(contentsOf: transferDirectory.appendingPathComponent("metrics.jsonl")))

        // 2. Supervised training from each initialisation.
        var rows: [Row] = []
        for initialization in ["ntt"] + baselines {
            let directory = root.appendingPathComponent("train-\(initialization)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let source = initialization == "ntt" ? transferDirectory.path : initialization
            var o = options
            if initialization == "dense" { o.density = 1 }
            let result = try TrainCommand.train(initialization: source, options: o, data: data, directory: directory,
                                                dataset: dataset, label: initialization) { t in
                t.epochs = trainEpochs ?? (full ? 50 : 25); t.iterations = trainIterations
            }
            rows.append(Row(initialization: initialization, test_accuracy: result.record.testAccuracy,
                            train_accuracy: result.record.trainAccuracy, kept_per_layer: result.kept, seconds: result.seconds))
        }

        // 3. Report.
        let table = Self.table(rows: rows, density: density)
        let ntkBefore = records.first?.ntkDistance ?? .nan, ntkAfter = records.last?.ntkDistance ?? .nan
        let total = Date().timeIntervalSince(started)
        var text = "# ntt demo\n\n\(model) on \(data.dataset), density \(density), seed \(seed).\n\n"
        text += String(format: "Transfer: %d iterations in %.0f s; NTK distance on the probe %.1f → %.1f (%.1f× lower).\n\n",
                       records.last?.iteration ?? 0, transferSeconds, ntkBefore, ntkAfter, ntkBefore / ntkAfter)
        text += table + String(format: "\nTotal wall time: %.0f s.\n", total)
        print("\n" + text)
        try AtomicFile.writeText(text, to: root.appendingPathComponent("summary.md").path)
        let summary: [String: Any] = [
            "model": model, "dataset": data.dataset, "density": density, "seed": seed,
            "transfer": ["iterations": records.last?.iteration ?? 0, "ntk_distance_before": ntkBefore,
                         "ntk_distance_after": ntkAfter, "seconds": transferSeconds],
            "results": Dictionary(uniqueKeysWithValues: rows.map { ($0.initialization, [
                "test_accuracy": $0.test_accuracy, "train_accuracy": $0.train_accuracy,
                "kept_per_layer": $0.kept_per_layer, "seconds": $0.seconds] as [String: Any]) }),
            "wall_seconds": total, "tool_version": NTTVersion.current]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys]),
                             to: root.appendingPathComponent("summary.json").path)
        print("report: \(root.appendingPathComponent("summary.md").path)")
    }

    /// runs/demo, or the first of runs/demo-2, runs/demo-3, … that does not exist, so running
    /// the demo again never fails and never replaces an earlier report.
    static func freshDefaultFolder() -> String {
        var candidate = "runs/demo", n = 1
        while FileManager.default.fileExists(atPath: candidate) { n += 1; candidate = "runs/demo-\(n)" }
        return candidate
    }

    static func table(rows: [Row], density: Double) -> String {
        var s = "| initialisation | density | test accuracy | train accuracy | training time |\n|---|---|---|---|---|\n"
        for r in rows {
            let kept = r.kept_per_layer.reduce(0, +)
            s += String(format: "| %@ | %@ | %.2f%% | %.2f%% | %.0f s |\n", r.initialization,
                        r.initialization == "dense" ? "1.0" : String(density) + " (\(kept) weights)",
                        r.test_accuracy * 100, r.train_accuracy * 100, r.seconds)
        }
        return s
    }
}

