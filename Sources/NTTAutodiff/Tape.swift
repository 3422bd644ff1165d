import Synchronization

/// One recorded operation: its inputs' nodes and how to map an output cotangent to input
/// cotangents. Pullbacks are written with `Tensor` operations, so when they run while an outer
/// derivative is being recorded they are recorded too — that is what makes gradients of
/// gradients work.
final class TapeNode: Sendable {
    /// Creation order; a node can depend only on nodes with smaller ids.
    let id: Int
    let inputs: [TapeNode?]
    let pullback: @Sendable (Tensor) -> [Tensor?]

    private static let counter = Atomic<Int>(0)

    init(inputs: [TapeNode?], pullback: @escaping @Sendable (Tensor) -> [Tensor?]) {
        self.id = TapeNode.counter.add(1, ordering: .relaxed).newValue
        self.inputs = inputs
        self.pullback = pullback
    }
}

/// Recording state of the current task.
enum Recording {
    /// False inside `withoutDerivatives` and while a top-level backward pass runs.
    @TaskLocal static var isEnabled = true
    /// How many `vjp`/`gradient` forward passes enclose the current code. A pullback that runs
    /// at depth 0 need not be recorded: nothing will differentiate it.
    @TaskLocal static var depth = 0
}

extension Tensor {
    /// Wraps a freshly computed value with a tape node when any input is tracked.
    @inline(__always)
    static func recorded(_ shape: [Int], _ scalars: [Float], inputs: [Tensor],
                         pullback: @escaping @Sendable (Tensor) -> [Tensor?]) -> Tensor {
        guard Recording.isEnabled, inputs.contains(where: { $0.node != nil }) else {
            return Tensor(shape: shape, scalars: scalars, node: nil)
        }
        return Tensor(shape: shape, scalars: scalars,
                      node: TapeNode(inputs: inputs.map(\.node), pullback: pullback))
    }

    /// A fresh tape variable with the same value. If `self` is already tracked by an outer
    /// derivative, the variable links back to it (identity), so outer derivatives see through.
    func asVariable() -> Tensor {
        Tensor(shape: shape, scalars: scalars,
               node: TapeNode(inputs: [node], pullback: { [$0] }))
    }
}

/// Runs `body` without recording derivatives: results are untracked and ops are cheaper.
public func withoutDerivatives<R>(_ body: () throws -> R) rethrows -> R {
    try Recording.$isEnabled.withValue(false, operation: body)
}

/// Reverse accumulation from `output` with cotangent `seed`, returning the cotangents of
/// `targets` (zeros for targets the output does not depend on).
private func backpropagate(_ output: Tensor, seed: Tensor, to targets: [Tensor]) -> [Tensor] {
    let targetIDs = targets.map { $0.node!.id }
    guard let root = output.node, let minID = targetIDs.min() else {
        return targets.map { Tensor.zeros($0.shape) }
    }
    // Topological order (reverse post-order) of nodes reachable from the root that could depend
    // on a target (id ≥ the smallest target id); iterative to survive deep graphs.
    var order: [TapeNode] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(TapeNode, Int)] = [(root, 0)]
    visited.insert(ObjectIdentifier(root))
    while let (node, next) = stack.popLast() {
        if next < node.inputs.count {
            stack.append((node, next + 1))
            if let child = node.inputs[next], child.id >= minID,
               visited.insert(ObjectIdentifier(child)).inserted {
                stack.append((child, 0))
            }
        } else {
            order.append(node)
        }
    }
    let targetSet = Set(targets.map { ObjectIdentifier($0.node!) })
    var cotangents: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
    for node in order.reversed() {
        let key = ObjectIdentifier(node)
        // Targets are leaves of this pass: their cotangent is final, do not pull further.
        guard let cotangent = cotangents[key], !targetSet.contains(key) else { continue }
        cotangents[key] = nil
        let inputCotangents = node.pullback(cotangent)
        for (input, inputCotangent) in zip(node.inputs, inputCotangents) {
            guard let input, input.id >= minID, let inputCotangent else { continue }
            let inputKey = ObjectIdentifier(input)
            if let existing = cotangents[inputKey] {
                cotangents[inputKey] = existing + inputCotangent
            } else {
                cotangents[inputKey] = inputCotangent
            }
        }
    }
    return targets.map { cotangents[ObjectIdentifier($0.node!)] ?? Tensor.zeros($0.shape) }
}

/// Runs the forward pass of `f` on fresh tape variables and returns its value with a pullback.
///
/// The pullback can be called many times. Called while an outer derivative is being recorded,
/// it is itself differentiable (double backprop).
public func vjp(at inputs: [Tensor], of f: ([Tensor]) -> Tensor)
    -> (value: Tensor, pullback: (Tensor) -> [Tensor]) {
    let variables = inputs.map { $0.asVariable() }
    let value = Recording.$depth.withValue(Recording.depth + 1) {
        Recording.$isEnabled.withValue(true) { f(variables) }
    }
    let pullback: (Tensor) -> [Tensor] = { seed in
        precondition(seed.shape == value.shape,
                     "vjp: cotangent shape \(seed.shape) does not match the output shape \(value.shape)")
        if Recording.depth == 0 || !Recording.isEnabled {
            return withoutDerivatives { backpropagate(value, seed: seed, to: variables) }
        }
        return backpropagate(value, seed: seed, to: variables)
    }
    return (value, pullback)
}

/// `vjp` for a function of one tensor.
public func vjp(at x: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
    let (value, pb) = vjp(at: [x]) { f($0[0]) }
    return (value, { pb($0)[0] })
}

/// The value of a scalar-valued `f` and its gradient with respect to each input.
public func valueAndGradient(at inputs: [Tensor], of f: ([Tensor]) -> Tensor)
    -> (value: Tensor, gradients: [Tensor]) {
    let (value, pullback) = vjp(at: inputs, of: f)
    precondition(value.count == 1,
                 "gradient: the function must return one element, got shape \(value.shape); use vjp for other outputs")
    return (value, pullback(Tensor(repeating: 1, shape: value.shape)))
}

/// The value of a scalar-valued `f`, auxiliary results computed along the way (returned
/// detached), and the gradient of the value with respect to each input — JAX's `has_aux`.
///
/// ```swift
/// let (loss, parts, grads) = valueAndGradient(at: [w], ofValueAndAux: { v in
///     let (a, b) = (f(v[0]), g(v[0]))
///     return (a + b, [a, b])
/// })
/// ```
public func valueAndGradient<Aux: Detachable>(at inputs: [Tensor], ofValueAndAux f: ([Tensor]) -> (Tensor, Aux))
    -> (value: Tensor, aux: Aux, gradients: [Tensor]) {
    var aux: Aux? = nil
    let (value, gradients) = valueAndGradient(at: inputs) { v in
        let (y, a) = f(v)
        aux = a
        return y
    }
    return (value, aux!.detached, gradients)
}

public func valueAndGradient(at x: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, gradient: Tensor) {
    let (value, g) = valueAndGradient(at: [x]) { f($0[0]) }
    return (value, g[0])
}

public func gradient(at inputs: [Tensor], of f: ([Tensor]) -> Tensor) -> [Tensor] {
    valueAndGradient(at: inputs, of: f).gradients
}

public func gradient(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
    valueAndGradient(at: x, of: f).gradient
}

/// Jacobian-vector product (forward-mode derivative) by the double-vjp trick: the pullback
/// u ↦ Jᵀu is linear, and the vjp of that map with cotangent v is J v.
public func jvp(at inputs: [Tensor], tangents: [Tensor], of f: ([Tensor]) -> Tensor)
    -> (value: Tensor, tangent: Tensor) {
    precondition(inputs.count == tangents.count, "jvp: \(inputs.count) inputs but \(tangents.count) tangents")
    for (x, t) in zip(inputs, tangents) {
        precondition(x.shape == t.shape, "jvp: tangent shape \(t.shape) does not match input shape \(x.shape)")
    }
    var value = Tensor(0)
    let tangent = Recording.$depth.withValue(Recording.depth + 1) { () -> Tensor in
        let (y, pullback) = vjp(at: inputs, of: f)
        value = y
        let u0 = Tensor.zeros(y.shape)
        return gradient(at: u0) { u in
            zip(pullback(u), tangents).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
        }
    }
    return (value, tangent)
}
