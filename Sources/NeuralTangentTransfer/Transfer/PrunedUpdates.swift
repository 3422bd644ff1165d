/// What a transfer step does to the masked-out weights (issue 14: the paper says they are not
/// updated, the original code lets Adam's momentum move them, and its author suggests giving
/// every weight a gradient so that the magnitude re-pruning sees it).
public enum PrunedUpdates: String, Codable, Sendable, CaseIterable {
    /// The original code: the loss sees w ⊙ m, so a masked-out weight's gradient is zero, but
    /// Adam's moments from before it was pruned still move it.
    case momentum
    /// Masked-out weights and their Adam moments are left untouched by the step (plain SGD, as
    /// the transfer runs it without momentum, already leaves them untouched: zero gradient).
    case frozen
    /// Straight-through: every weight gets ∂L/∂(w ⊙ m), the gradient as if it were not masked.
    case dense

    /// One line per mode, for help texts.
    public static let help = """
        momentum: zero gradient for pruned weights, Adam's moments move them
        frozen: pruned weights and their Adam moments are left untouched
        dense: every weight gets ∂L/∂(w⊙m), as if unmasked (straight-through)
        """
}
