/// What one layer did in a traced forward pass, kept to push the NTK's output cotangents back
/// through it with differentiable operations (see `EmpiricalNTK`).
///
/// Cotangents come as a batch of n·k rows ordered (sample, output): row (i, a) is ∂f_a(xᵢ)/∂y
/// for the layer's output y.
package protocol LayerTrace: Sendable {
    /// Δ at the layer's output [n·k, …output] → Δ at its input [n·k, …input].
    func pushCotangents(_ delta: Tensor, outputs k: Int) -> Tensor
}
