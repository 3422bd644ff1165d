import NeuralTangentTransfer

/// One probe record of a transfer run (a line of `metrics.jsonl`).
public struct TransferRecord: Codable, Sendable, Equatable {
    public var iteration: Int
    public var transferLoss: Double
    public var ntkDistance: Double
    public var targetDistance: Double
    public var l2: Double

    public init(iteration: Int, transferLoss: Double, ntkDistance: Double, targetDistance: Double, l2: Double) {
        self.iteration = iteration; self.transferLoss = transferLoss; self.ntkDistance = ntkDistance
        self.targetDistance = targetDistance; self.l2 = l2
    }

    public init(iteration: Int, terms: TransferLoss.Terms) {
        self.iteration = iteration
        transferLoss = Double(terms.total.scalar)
        ntkDistance = Double(terms.ntkDistance.scalar)
        targetDistance = Double(terms.targetDistance.scalar)
        l2 = Double(terms.l2.scalar)
    }
}
