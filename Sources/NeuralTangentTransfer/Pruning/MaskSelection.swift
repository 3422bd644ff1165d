import NTTLayers

/// Turns per-weight scores into 0/1 masks that keep the highest scores at an exact density.
///
/// Exactness: layer-wise, layer l keeps exactly round(d·nₗ) weights (at least 1); globally,
/// exactly round(d·n) overall. Ties are broken deterministically: the earlier position (layer
/// order, then row-major index) wins. NaN scores rank lowest.
public enum MaskSelection {
    public static func masks(scores: [Tensor], density: Double, scope: PruningScope) -> [Tensor] {
        precondition(density > 0 && density <= 1, "MaskSelection: density must be in (0, 1], got \(density)")
        switch scope {
        case .layerwise:
            return scores.map { s in
                let keep = max(1, Int((density * Double(s.count)).rounded()))
                let kept = topIndices(s.scalars, count: keep)
                var m = [Float](repeating: 0, count: s.count)
                for i in kept { m[i] = 1 }
                return Tensor(shape: s.shape, scalars: m)
            }
        case .global:
            let all = scores.flatMap(\.scalars)
            let keep = max(1, Int((density * Double(all.count)).rounded()))
            var flat = [Float](repeating: 0, count: all.count)
            for i in topIndices(all, count: keep) { flat[i] = 1 }
            var offset = 0
            return scores.map { s in
                defer { offset += s.count }
                return Tensor(shape: s.shape, scalars: Array(flat[offset..<(offset + s.count)]))
            }
        }
    }

    /// Indices of the `count` largest values; ties → smaller index first; NaN lowest.
    static func topIndices(_ values: [Float], count: Int) -> [Int] {
        if count >= values.count { return Array(values.indices) }
        let key = values.map { $0.isNaN ? -Float.infinity : $0 }
        let order = values.indices.sorted { a, b in key[a] != key[b] ? key[a] > key[b] : a < b }
        return Array(order.prefix(count))
    }

    /// Kept weights per layer.
    public static func keptCounts(_ masks: [Tensor]) -> [Int] {
        masks.map { m in m.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
    }
}
