/// max(x, 0), with derivative 0 at exactly 0 (as JAX). Its cotangent push multiplies by the
/// 0/1 mask of x > 0, a constant of the traced pass.
package struct ReLULayer: LayerRule {
    package init() {}

    package func outputShape(forInput shape: [Int]) throws(ModelSpecError) -> [Int] { shape }

    package func parameterShapes(forInput shape: [Int]) -> (weight: [Int], bias: [Int])? { nil }

    package func apply(_ x: Tensor, parameters: LayerParameters?, position: Int, dropoutSeed: UInt64?) -> Tensor {
        x.relu()
    }

    package func tracedApply(_ x: Tensor, parameters: LayerParameters?) -> (output: Tensor, trace: any LayerTrace) {
        (x.relu(), Trace(mask: x.positiveMask()))
    }

    /// The 0/1 derivative mask [n, …] (a constant).
    package struct Trace: LayerTrace {
        package var mask: Tensor

        /// Δ ⊙ mask, each sample's mask broadcast over its k rows (one pass, no repeated copy).
        package func pushCotangents(_ delta: Tensor, outputs k: Int) -> Tensor {
            let n = mask.shape[0], rest = Array(mask.shape.dropFirst())
            return (delta.reshaped([n, k] + rest) * mask.reshaped([n, 1] + rest)).reshaped([n * k] + rest)
        }
    }
}
