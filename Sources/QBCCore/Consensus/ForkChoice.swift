import QBCCrypto

/// Which of two valid chains with the same Bang a node keeps.
public enum ForkChoice {
    /// True when a chain with `candidateWork` ending in `candidateTip` beats the current one:
    /// more cumulative work wins; on equal work the lower tip hash (byte order) wins, so that
    /// every node settles on the same chain even when two Quants are sealed at once.
    public static func prefers(
        candidateWork: Int64, candidateTip: Hash, over currentWork: Int64, currentTip: Hash
    ) -> Bool {
        if candidateWork != currentWork { return candidateWork > currentWork }
        return candidateTip < currentTip
    }
}
