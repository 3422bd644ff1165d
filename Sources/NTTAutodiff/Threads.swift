import NTTKernels

/// The thread budget of a computation: how many threads its products, convolutions and other
/// parallel kernels may run on.
///
/// The budget is task-local, like the tape's recording flag: it applies to the work done inside
/// `withBudget` on the calling thread or task (and tasks it creates), and nowhere else — there
/// is no process-wide setting. Results are the same bit for bit with any budget, since work is
/// cut by its shape only. Without a budget, the number of online cores is used.
///
/// ```swift
/// let kernel = Threads.withBudget(2) { EmpiricalNTK.compute(model: model, parameters: p, x1: a, x2: b) }
/// ```
public enum Threads {
    /// The budget in effect here (≥ 1): the innermost `withBudget`'s, else the online cores.
    public static var budget: Int { Parallel.threadBudget }

    /// The number of online cores, the default budget.
    public static var onlineCores: Int { Parallel.onlineCores }

    /// Runs `body` with at most `threads` threads (clamped to ≥ 1) for its parallel kernels.
    public static func withBudget<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        try Parallel.$threadBudget.withValue(max(1, threads), operation: body)
    }

    /// Runs `body` with at most `threads` threads (clamped to ≥ 1) for its parallel kernels.
    public static func withBudget<R>(_ threads: Int, _ body: () async throws -> R) async rethrows -> R {
        try await Parallel.$threadBudget.withValue(max(1, threads), operation: body)
    }

    /// Runs two independent computations side by side when the budget is exactly two threads,
    /// each on one thread (`first` on the calling thread, `second` on a helper), else one after
    /// the other; the results are the same bit for bit either way. Both see the caller's
    /// recording state (tape on or off, derivative depth), so either may record on the tape.
    ///
    /// ```swift
    /// let (a, b) = Threads.overlapping({ model.apply(p, to: x1) }, { model.apply(p, to: x2) })
    /// ```
    public static func overlapping<A, B>(_ first: () -> A, _ second: () -> B) -> (A, B) {
        let (isEnabled, depth) = (Recording.isEnabled, Recording.depth)
        return Parallel.overlapping(first, {
            Recording.$isEnabled.withValue(isEnabled) { Recording.$depth.withValue(depth, operation: second) }
        })
    }
}

extension Threads {
    /// The most multiply-adds (or element operations) each of a pullback's two products may cost
    /// for `pair` to run them side by side: 2²⁶, about 2 ms on one core here. It takes in every
    /// product of LeNet-300-100's kernel (the largest, the cotangents of its 300-wide layer's
    /// Δ₁Δ₂ᵀ, 2²⁴·⁹), whose transfer step it made 1.04–1.25× faster with two threads (two
    /// sittings of 8 and 10 alternating rounds; 2²⁴, which left that pair cut in two: 1.08×);
    /// larger limits changed nothing measurable on LeNet-5.
    static let pairedWork = 1 << 26

    /// The two cotangents of a pullback, `first` and `second`, each wanted or not and costing
    /// about `work`: side by side, one thread each (`overlapping`), when both are wanted and small
    /// (products too small to cut well in two, as the backward pass of a small network's kernel
    /// is made of), else one after the other. The same bits either way; nil for one not wanted.
    static func pair(work: Int, _ wantFirst: Bool, _ first: () -> Tensor,
                     _ wantSecond: Bool, _ second: () -> Tensor) -> (Tensor?, Tensor?) {
        guard wantFirst && wantSecond else { return (wantFirst ? first() : nil, wantSecond ? second() : nil) }
        if !pairsSideBySide(work: work) { return (first(), second()) }
        let (a, b) = overlapping(first, second)
        return (a, b)
    }

    /// Whether `pair` runs two cotangents of `work` each side by side under the current budget.
    static func pairsSideBySide(work: Int) -> Bool { work <= pairedWork && budget == 2 }
}
