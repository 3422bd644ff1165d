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
        let sources: [(String, Initialization)] = [("ntt", .transferRun(transferFolder.path))]
            + config.baselines.map { ($0.rawValue, .pruning($0)) }
        // The dense network trains first, so that every sparse run compares its outputs with it
        // at each evaluation (same data order and seed: lockstep).
        let denseFirst = sources.filter { $0.0 == "dense" } + sources.filter { $0.0 != "dense" }
        var reference: String? = nil
        for (name, source) in denseFirst {
            let dense = name == "dense"
            let run = try TrainingRun(config: config.training(source, dense: dense, reference: dense ? nil : reference))
            let subfolder = try folder.subfolder("train-\(name)")
            let outcome = try run.run(dataset: dataset, folder: subfolder) { events(.training(name: name, $0)) }
            events(.finished(name))
            if dense { reference = subfolder.path }
            results[name] = DemoSummary.Row(testAccuracy: outcome.record.testAccuracy,
                                            trainAccuracy: outcome.record.trainAccuracy,
                                            keptPerLayer: outcome.keptPerLayer, seconds: outcome.seconds,
                                            initialNtkDistance: outcome.initialDistance?.ntkDistance,
                                            outputDistance: outcome.trajectory.last?.outputDistance,
                                            agreement: outcome.trajectory.last?.agreement)
        }
        let order = sources.map(\.0)
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
