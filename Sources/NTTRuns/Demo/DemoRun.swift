import Foundation
import NeuralTangentTransfer

/// The main job: a transfer, then supervised training from its student and from each
/// baseline, into one folder (`transfer/`, `train-<name>/`, `summary.md`, `summary.json`).
public struct DemoRun {
    public let config: DemoConfig

    public init(config: DemoConfig) throws { self.config = try config.validated() }

    /// What the demo is doing, for progress displays.
    public enum Event {
        case transfer(TransferProgress)
        case training(name: String, Trainer.Progress)
        /// A stage (`transfer` or an initialisation's name) has finished.
        case finished(String)
    }

    /// Runs everything; returns nil if `stop` was raised during the transfer (the partial demo
    /// stays in `folder`).
    public func run(dataset: Dataset, folder: RunFolder, stop: StopFlag? = nil,
                    events: (Event) -> Void = { _ in }) throws -> DemoSummary? {
        let started = Date()
        let lock = try folder.begin()
        defer { withExtendedLifetime(lock) {} }
        let transferFolder = try folder.subfolder("transfer")
        let transfer = try TransferRun(config: config.transfer, dataset: dataset, folder: transferFolder)
        let transferStart = Date()
        guard try transfer.run(stop: stop, progress: { events(.transfer($0)) }) == .finished else { return nil }
        events(.finished("transfer"))
        let transferSeconds = Date().timeIntervalSince(transferStart)
        let records = try transfer.records()

        var results: [String: DemoSummary.Row] = [:]
        var order: [String] = []
        let sources: [(String, Initialization)] = [("ntt", .transferRun(transferFolder.path))]
            + config.baselines.map { ($0.rawValue, .pruning($0)) }
        for (name, source) in sources {
            let run = try TrainingRun(config: config.training(source, dense: name == "dense"))
            let outcome = try run.run(dataset: dataset, folder: try folder.subfolder("train-\(name)")) {
                events(.training(name: name, $0))
            }
            events(.finished(name))
            results[name] = DemoSummary.Row(testAccuracy: outcome.record.testAccuracy,
                                            trainAccuracy: outcome.record.trainAccuracy,
                                            keptPerLayer: outcome.keptPerLayer, seconds: outcome.seconds)
            order.append(name)
        }
        let t = config.transfer
        let summary = DemoSummary(
            model: t.model, dataset: t.dataset, density: t.density, seed: t.seed,
            transfer: .init(iterations: records.last?.iteration ?? 0,
                            ntkDistanceBefore: records.first?.ntkDistance ?? .nan,
                            ntkDistanceAfter: records.last?.ntkDistance ?? .nan, seconds: transferSeconds),
            results: results, order: order, wallSeconds: Date().timeIntervalSince(started))
        try folder.writeText(summary.markdown, to: "summary.md")
        try folder.writeJSON(summary, to: "summary.json")
        return summary
    }
}
