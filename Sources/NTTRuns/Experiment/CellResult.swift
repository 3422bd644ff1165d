import Foundation
import NeuralTangentTransfer

/// What a finished cell reports (`done.json`, written last and atomically, so its presence
/// means the cell's other files are complete).
public struct CellResult: Codable, Sendable, Equatable {
    public var cell: ExperimentCell
    public var iterations: Int
    public var seconds: Double
    public var keptPerLayer: [Int]
    public var weightsPerLayer: [Int]
    /// The scope the masks were chosen in (a transfer's re-pruning, or a pruning method's).
    public var pruneScope: PruningScope?
    /// Training cells.
    public var testAccuracy: Double?
    public var trainAccuracy: Double?
    /// Transfer cells: distances on the probe before the first and after the last iteration.
    public var ntkDistanceBefore: Double?
    public var ntkDistanceAfter: Double?
    public var targetDistanceBefore: Double?
    public var targetDistanceAfter: Double?
    /// Training cells from a method or a transfer: NTK and output distances to the dense network
    /// with the same initial weights, at the start (`InitialDistance`).
    public var initialNtkDistance: Double?
    public var initialTargetDistance: Double?
    /// Sparse training cells with a dense reference: the comparison on the test probe at iteration
    /// 0 and at every evaluation (`ProbeComparison`).
    public var trajectory: [ProbeComparison]?
    public var toolVersion: String = NTTVersion.current

    public init(cell: ExperimentCell, iterations: Int, seconds: Double, keptPerLayer: [Int], weightsPerLayer: [Int]) {
        self.cell = cell; self.iterations = iterations; self.seconds = seconds
        self.keptPerLayer = keptPerLayer; self.weightsPerLayer = weightsPerLayer
    }

    public static func read(_ url: URL) throws -> CellResult {
        try RunJSON.read(CellResult.self, from: url, what: "a cell result")
    }

    /// Every `done.json` under `cellsRoot`, in path order (results copied in from other
    /// machines are found too).
    public static func all(under cellsRoot: URL) throws -> [(folder: URL, result: CellResult)] {
        guard let walker = FileManager.default.enumerator(at: cellsRoot, includingPropertiesForKeys: nil) else {
            return []
        }
        var found: [(URL, CellResult)] = []
        for case let url as URL in walker where url.lastPathComponent == "done.json" {
            found.append((url.deletingLastPathComponent(), try read(url)))
        }
        return found.sorted { $0.0.path < $1.0.path }
    }
}
