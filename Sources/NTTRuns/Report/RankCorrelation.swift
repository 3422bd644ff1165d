/// Spearman's rank correlation: Pearson's correlation of the ranks, tied values sharing their
/// mean rank (the usual definition, as `scipy.stats.spearmanr`).
public enum RankCorrelation {
    /// ρ of the pairs (x_i, y_i); nil with fewer than 3 pairs or when either side is constant.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "RankCorrelation.spearman: \(x.count) vs \(y.count) values")
        guard x.count >= 3 else { return nil }
        let (a, b) = (ranks(x), ranks(y))
        let (ma, mb) = (a.reduce(0, +) / Double(a.count), b.reduce(0, +) / Double(b.count))
        let cov = zip(a, b).map { ($0 - ma) * ($1 - mb) }.reduce(0, +)
        let va = a.map { ($0 - ma) * ($0 - ma) }.reduce(0, +), vb = b.map { ($0 - mb) * ($0 - mb) }.reduce(0, +)
        guard va > 0 && vb > 0 else { return nil }
        return cov / (va * vb).squareRoot()
    }

    /// 1-based ranks; tied values get the mean of the ranks they span.
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var out = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for k in start...end { out[order[k]] = rank }
            start = end + 1
        }
        return out
    }
}
