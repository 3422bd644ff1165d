import Foundation
import NeuralTangentTransfer

/// Where an experiment's files live.
public struct ExperimentLayout: Sendable {
    public let root: URL
    public init(root: URL) { self.root = root }

    public var config: URL { root.appendingPathComponent("experiment.json") }
    public var cellsRoot: URL { root.appendingPathComponent("cells") }
    public var logs: URL { root.appendingPathComponent("logs") }
    public var plan: URL { root.appendingPathComponent("plan") }
    public func folder(_ cell: ExperimentCell) -> URL { cellsRoot.appendingPathComponent(cell.id) }
    public func done(_ cell: ExperimentCell) -> URL { folder(cell).appendingPathComponent("done.json") }
    /// Outside the cell folder, so a stale folder can be removed while its lock is held.
    public func lock(_ cell: ExperimentCell) -> URL { cellsRoot.appendingPathComponent(cell.id + ".lock") }
    public func log(_ cell: ExperimentCell) -> URL {
        logs.appendingPathComponent(cell.id.replacingOccurrences(of: "/", with: "__") + ".log")
    }
    public func isFinished(_ cell: ExperimentCell) -> Bool { RunFolder(folder(cell)).isDone }

    /// Whether the folder holds an experiment (its `experiment.json`).
    public var hasConfig: Bool { FileManager.default.fileExists(atPath: config.path) }

    /// The experiment stored in the folder, if any.
    public func storedConfig() throws -> ExperimentConfig? {
        guard FileManager.default.fileExists(atPath: config.path) else { return nil }
        return try ExperimentConfig.load(config.path)
    }
}
