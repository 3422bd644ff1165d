/// The "about … left" of an experiment's progress lines, from the cells finished so far, by kind:
/// a transfer cell takes ten to a hundred times as long as a training cell (LeNet-5 here: 35 min
/// against 5 min), so one mean over both would put an early estimate off by as much.
struct CellTimes {
    private var seconds: [ExperimentCell.Kind: Double] = [:]
    private var counts: [ExperimentCell.Kind: Int] = [:]

    mutating func add(_ kind: ExperimentCell.Kind, seconds spent: Double) {
        seconds[kind, default: 0] += spent
        counts[kind, default: 0] += 1
    }

    /// Whether a cell of `kind` is expected to finish within `seconds`, at the mean of its kind
    /// so far; a kind with no finished cell yet gets the benefit of the doubt.
    func fits(_ kind: ExperimentCell.Kind, within available: Double) -> Bool {
        guard let n = counts[kind], n > 0 else { return true }
        return seconds[kind, default: 0] / Double(n) <= available
    }

    /// Time left for `remaining` cells run `jobs` at a time, each at the mean of its kind so far:
    /// "about 1:02:03 left", with "+ N training cells not yet timed" for kinds with no finished
    /// cell yet, or "time left unknown" when none of them has a mean yet.
    func estimate(remaining: [ExperimentCell], jobs: Int) -> String {
        var total = 0.0
        var untimed: [ExperimentCell.Kind: Int] = [:]
        for cell in remaining {
            if let n = counts[cell.kind], n > 0 {
                total += seconds[cell.kind, default: 0] / Double(n)
            } else {
                untimed[cell.kind, default: 0] += 1
            }
        }
        let missing = [ExperimentCell.Kind.transfer, .train].compactMap { kind -> String? in
            guard let n = untimed[kind] else { return nil }
            return "\(n) \(kind == .transfer ? "transfer" : "training") cell\(n == 1 ? "" : "s")"
        }
        if missing.isEmpty || total > 0 {
            let left = "about \(TimeText.clock(total / Double(max(jobs, 1)))) left"
            return missing.isEmpty ? left : left + " + " + missing.joined(separator: " and ") + " not yet timed"
        }
        return "time left unknown"
    }
}
