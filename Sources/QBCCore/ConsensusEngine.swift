public import QBCCrypto

/// What a consensus engine decides. Pure and deterministic: time and state are passed in.
public protocol ConsensusEngine: Sendable {
    /// The header `proposer` would seal at `height` now, with the engine's fields set (difficulty
    /// or weight), or nil when it may not propose at this height yet.
    func prepare(_ header: QuantHeader, parent: QuantRules.Parent, now: Timestamp, membership: Membership) -> QuantHeader?
    /// Checks the header's proof (work or seal, turn and timing) against its parent.
    func checkProof(
        _ header: QuantHeader, parent: QuantRules.Parent, membership: Membership, banned: Set<PublicKey>
    ) throws(RuleError)
    /// The weight a checked header adds to its chain, for fork choice.
    func weight(of header: QuantHeader) -> Int64
}

extension Consensus {
    /// The engine that implements these rules.
    public var engine: any ConsensusEngine {
        switch self {
        case .proofOfWork(let bits, let retarget): ProofOfWorkEngine(difficultyBits: bits, retarget: retarget)
        case .proofOfAuthority(let delay): ProofOfAuthorityEngine(outOfTurnDelayMilliseconds: delay)
        }
    }
}

/// Proof of work: anyone the node lets seal may propose; the hash must meet the difficulty.
public struct ProofOfWorkEngine: ConsensusEngine {
    /// The starting difficulty.
    public let difficultyBits: UInt8
    public let retarget: Retarget?

    public init(difficultyBits: UInt8, retarget: Retarget? = nil) {
        self.difficultyBits = difficultyBits
        self.retarget = retarget
    }

    /// Whether the Quant above `parentHeight` retargets (and so needs `Parent.windowStart`).
    public func retargets(above parentHeight: UInt64) -> Bool {
        guard let retarget else { return false }
        return parentHeight > 0 && parentHeight % UInt64(retarget.window) == 0
    }

    /// The difficulty the Quant above `parent` must meet. Without retargeting: the Bang's. With it:
    /// the parent's, except above every `window`-th Quant, where one bit is added when the last
    /// window took less than half its target time, and removed (not below 1) when more than twice.
    public func expectedDifficulty(above parent: QuantRules.Parent) -> UInt8 {
        guard let retarget, parent.height > 0 else { return difficultyBits }
        guard retargets(above: parent.height), let start = parent.windowStart else { return parent.difficultyBits }
        let span = parent.timestamp.milliseconds(since: start)
        let target = Int64(retarget.window) * Int64(retarget.targetIntervalMilliseconds)
        // Saturating: `difficultyBits` is a byte read from a header.
        if span < target / 2 { return parent.difficultyBits < Consensus.maxDifficultyBits ? parent.difficultyBits + 1 : Consensus.maxDifficultyBits }
        if span > target * 2, parent.difficultyBits > 1 { return parent.difficultyBits - 1 }
        return parent.difficultyBits
    }

    public func prepare(_ header: QuantHeader, parent: QuantRules.Parent, now: Timestamp, membership: Membership)
        -> QuantHeader?
    {
        var prepared = header
        prepared.difficultyBits = expectedDifficulty(above: parent)
        prepared.seal = nil
        return prepared
    }

    public func checkProof(
        _ header: QuantHeader, parent: QuantRules.Parent, membership: Membership, banned: Set<PublicKey>
    ) throws(RuleError) {
        guard header.seal == nil else { throw RuleError(.badProof, "proof-of-work headers carry no seal") }
        let expected = expectedDifficulty(above: parent)
        guard header.difficultyBits == expected else {
            throw RuleError(.badProof, "difficulty \(header.difficultyBits) is not the \(expected) this height requires")
        }
        guard header.hash.leadingZeroBits >= Int(expected) else {
            throw RuleError(.badProof, "the header hash does not meet difficulty \(expected)")
        }
    }

    /// 2^difficulty expected hashes.
    public func weight(of header: QuantHeader) -> Int64 { Int64(1) << Int64(min(header.difficultyBits, Consensus.maxDifficultyBits)) }
}

/// Proof of authority: see `ProofOfAuthority` for turns, weights and seals.
public struct ProofOfAuthorityEngine: ConsensusEngine {
    public let outOfTurnDelayMilliseconds: UInt32

    public func prepare(_ header: QuantHeader, parent: QuantRules.Parent, now: Timestamp, membership: Membership)
        -> QuantHeader?
    {
        guard let weight = ProofOfAuthority.weight(
            for: header.proposer, at: header.height, parentTimestamp: parent.timestamp, now: now,
            delay: outOfTurnDelayMilliseconds, membership: membership)
        else { return nil }
        var prepared = header
        prepared.difficultyBits = weight
        prepared.nonce = 0
        return prepared
    }

    public func checkProof(
        _ header: QuantHeader, parent: QuantRules.Parent, membership: Membership, banned: Set<PublicKey>
    ) throws(RuleError) {
        try ProofOfAuthority.check(header, parent: parent, delay: outOfTurnDelayMilliseconds, membership: membership, banned: banned)
    }

    /// 2 in turn, 1 out of turn (the claim was checked).
    public func weight(of header: QuantHeader) -> Int64 { Int64(min(header.difficultyBits, ProofOfAuthority.inTurnWeight)) }
}
