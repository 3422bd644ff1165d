import Foundation
import NeuralTangentTransfer

/// A rough upper estimate of the memory one step of a run needs, from the model's shapes (in
/// Double, so absurd sizes cannot overflow), checked before the run starts: a run that cannot
/// fit is refused with the amount and the flag to lower, instead of dying in an allocation.
///
/// The terms follow where the memory goes: parameters with their gradients and optimiser state;
/// activations of the batch (kept for the backward pass); for the NTK, the k cotangents per
/// sample at every layer, conv patch matrices and per-sample Jacobians (n·k × kh·kw·cin·cout),
/// and the kernels (n₁k × n₂k per layer); double backprop keeps about three copies of the
/// traced pass. The constants are generous on purpose: only runs far beyond the machine are
/// refused (a Conv-4 transfer step, ~3 GB measured, is estimated at a few GB).
public enum MemoryEstimate {
    struct Shapes {
        var parameters = 0.0, activations = 0.0, patches = 0.0, jacobians = 0.0, layers = 0.0
    }

    static func shapes(_ model: Model) -> Shapes {
        var s = Shapes()
        s.activations = model.inputShape.reduce(1.0) { $0 * Double($1) }
        for shape in model.layerOutputShapes { s.activations += shape.reduce(1.0) { $0 * Double($1) } }
        for (weight, bias) in model.parameterShapes {
            let w = weight.reduce(1.0) { $0 * Double($1) }
            s.parameters += w + bias.reduce(1.0) { $0 * Double($1) }
            s.layers += 1
            if weight.count == 4 { s.jacobians += w }
        }
        for (i, layer) in model.spec.layers.enumerated() {
            if case .conv(_, let k, _, _) = layer, let out = model.layerOutputShapes[i].first {
                let cin = Double(model.inputShape(ofLayer: i).last ?? 1)
                s.patches += Double(out) * Double(model.layerOutputShapes[i][1]) * Double(k.height * k.width) * cin
            }
        }
        return s
    }

    /// Bytes for one supervised step on `batch` examples.
    public static func trainingStep(_ model: Model, batch: Int) -> Double {
        let s = shapes(model)
        return 4 * (6 * s.parameters + 4 * Double(batch) * (s.activations + s.patches))
    }

    /// Bytes for one transfer step (two NTKs between halves of `batch`, and its gradient).
    public static func transferStep(_ model: Model, batch: Int) -> Double {
        let half = Double(batch) / 2
        return 4 * (8 * model.weightCountDouble + 2 * kernelBytesPerFloat(model, n1: half, n2: half, recorded: true))
    }

    /// Bytes for one kernel between `n1` and `n2` inputs.
    public static func kernel(_ model: Model, n1: Int, n2: Int) -> Double {
        4 * (2 * model.weightCountDouble + kernelBytesPerFloat(model, n1: Double(n1), n2: Double(n2), recorded: false))
    }

    private static func kernelBytesPerFloat(_ model: Model, n1: Double, n2: Double, recorded: Bool) -> Double {
        let s = shapes(model), k = Double(model.outputCount)
        let traced = (n1 + n2) * (s.activations * (1 + k) + s.patches + k * s.jacobians)
        let grams = n1 * k * n2 * k * (s.layers + 1)
        return (recorded ? 3 : 1) * traced + 2 * grams
    }

    /// This machine's physical memory in bytes.
    public static var physicalMemory: Double { Double(ProcessInfo.processInfo.physicalMemory) }

    /// Throws when `bytes` exceed the physical memory: "`what` would need about X GB … lower `flags`".
    public static func check(_ bytes: Double, what: String, lower flags: String) throws {
        let available = physicalMemory
        guard bytes > available else { return }
        let gb = { (b: Double) in b >= 1e15 ? String(format: "%.3g", b / 1e9) : String(format: "%.1f", b / 1e9) }
        throw NTTError("\(what) would need about \(gb(bytes)) GB of memory, more than the \(gb(available)) GB of this "
                       + "machine; lower \(flags)")
    }
}

extension Model {
    /// Weights and biases, counted in Double (no overflow for absurd specs).
    var weightCountDouble: Double {
        parameterShapes.reduce(0.0) {
            $0 + $1.weight.reduce(1.0) { $0 * Double($1) } + $1.bias.reduce(1.0) { $0 * Double($1) }
        }
    }
}
