import NTTKernels
import NTTLayers

/// The loop every optimiser runs: shape checks, one in-place pass per parameter tensor with the
/// L2 penalty folded in, and the penalty's value. Passes run over fixed chunks through
/// `Parallel`: the chunks depend on the size only and their Σθ² are added in chunk order, so
/// results do not depend on the threads.
enum OptimizerPass {
    static let chunkSize = 32_768

    /// Calls `pass(t, θ, g, decay)` once per non-empty tensor t on the calling thread (so it may
    /// reach into the optimiser's state), with θ updated in place, its gradient g and
    /// decay = 2λₜ. `pass` returns Σθ² before the update (use `chunks`). Returns Σₜ λₜ‖θₜ‖².
    static func run(_ optimizer: String, _ parameters: inout [Tensor], gradients: [Tensor], penalties: [Float]?,
                    _ pass: (_ t: Int, _ x: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                             _ decay: Float) -> Float) -> Float {
        precondition(parameters.count == gradients.count,
                     "\(optimizer): \(parameters.count) parameters but \(gradients.count) gradients")
        precondition(penalties == nil || penalties!.count == parameters.count,
                     "\(optimizer): \(penalties?.count ?? 0) penalties for \(parameters.count) parameters")
        var penalty: Float = 0
        for t in parameters.indices where parameters[t].count > 0 {
            precondition(parameters[t].shape == gradients[t].shape,
                         "\(optimizer): gradient shape \(gradients[t].shape) differs from parameter shape "
                             + "\(parameters[t].shape)")
            let lambda = penalties?[t] ?? 0
            let squares = parameters[t].withMutableScalars { x in
                gradients[t].scalars.withUnsafeBufferPointer { g in
                    pass(t, x.baseAddress!, g.baseAddress!, 2 * lambda)
                }
            }
            penalty += lambda * squares
        }
        return penalty
    }

    /// Runs `kernel(offset, count)` over fixed chunks of `count` elements (possibly at once) and
    /// adds the returned sums in chunk order.
    static func chunks(count: Int, _ kernel: (_ offset: Int, _ count: Int) -> Float) -> Float {
        let chunks = (count + chunkSize - 1) / chunkSize
        if chunks <= 1 { return count == 0 ? 0 : kernel(0, count) }
        var sums = [Float](repeating: 0, count: chunks)
        sums.withUnsafeMutableBufferPointer { sums in
            Parallel.forEach(parts: chunks) { c in
                sums[c] = kernel(c * chunkSize, min(chunkSize, count - c * chunkSize))
            }
        }
        return sums.reduce(0, +)
    }
}
