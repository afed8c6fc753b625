public import QBCCrypto

/// What a consensus engine decides. Pure and deterministic: time and state are passed in.
public protocol ConsensusEngine: Sendable {
    /// The header `proposer` would seal at `height` now, with the engine's fields set (difficulty
    /// or weight), or nil when it may not propose at this height yet.
    func prepare(_ header: QuantHeader, parentTimestamp: Timestamp, now: Timestamp, membership: Membership) -> QuantHeader?
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
        case .proofOfWork(let bits): ProofOfWorkEngine(difficultyBits: bits)
        case .proofOfAuthority(let delay): ProofOfAuthorityEngine(outOfTurnDelayMilliseconds: delay)
        }
    }
}

/// Proof of work: anyone the node lets seal may propose; the hash must meet the difficulty.
public struct ProofOfWorkEngine: ConsensusEngine {
    public let difficultyBits: UInt8

    public func prepare(_ header: QuantHeader, parentTimestamp: Timestamp, now: Timestamp, membership: Membership)
        -> QuantHeader?
    {
        var prepared = header
        prepared.difficultyBits = difficultyBits
        prepared.seal = nil
        return prepared
    }

    public func checkProof(
        _ header: QuantHeader, parent: QuantRules.Parent, membership: Membership, banned: Set<PublicKey>
    ) throws(RuleError) {
        guard header.seal == nil else { throw RuleError(.badProof, "proof-of-work headers carry no seal") }
        guard header.difficultyBits == difficultyBits else {
            throw RuleError(.badProof, "difficulty \(header.difficultyBits) is not the chain's \(difficultyBits)")
        }
        guard header.hash.leadingZeroBits >= Int(difficultyBits) else {
            throw RuleError(.badProof, "the header hash does not meet difficulty \(difficultyBits)")
        }
    }

    /// 2^difficulty expected hashes.
    public func weight(of header: QuantHeader) -> Int64 { Int64(1) << Int64(min(header.difficultyBits, Consensus.maxDifficultyBits)) }
}

/// Proof of authority: see `ProofOfAuthority` for turns, weights and seals.
public struct ProofOfAuthorityEngine: ConsensusEngine {
    public let outOfTurnDelayMilliseconds: UInt32

    public func prepare(_ header: QuantHeader, parentTimestamp: Timestamp, now: Timestamp, membership: Membership)
        -> QuantHeader?
    {
        guard let weight = ProofOfAuthority.weight(
            for: header.proposer, at: header.height, parentTimestamp: parentTimestamp, now: now,
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
