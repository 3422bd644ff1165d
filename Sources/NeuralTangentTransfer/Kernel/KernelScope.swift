/// Which parameters the empirical NTK differentiates with respect to.
public enum KernelScope: String, Sendable, Codable, CaseIterable {
    /// Every entry of the effective weights w ⊙ m, pruned positions included, plus biases — what
    /// the original NTT code computes (it treats w ⊙ m as free variables).
    case effective
    /// Only the surviving (unpruned) weights, plus biases: the kernel that governs gradient
    /// descent on the sparse network itself.
    case surviving
}
