public import QBCCrypto

/// Proof of authority: who may seal at a height, with what weight, and how a seal is checked.
///
/// Authorities are the members with the `authority` role, in byte order of their keys. The
/// in-turn authority at height h is `authorities[h % count]`; its Quants weigh 2. Any other
/// authority may seal once `delay` has passed since the parent's timestamp; those weigh 1.
public enum ProofOfAuthority {
    public static let inTurnWeight: UInt8 = 2
    public static let outOfTurnWeight: UInt8 = 1

    public static func authorities(_ membership: Membership) -> [PublicKey] { membership.members(with: .authority) }

    /// The authority whose turn it is at `height`, or nil when the chain has none.
    public static func inTurn(at height: UInt64, membership: Membership) -> PublicKey? {
        let list = authorities(membership)
        return list.isEmpty ? nil : list[Int(height % UInt64(list.count))]
    }

    /// The weight `proposer` may claim at `height`, or nil when it may not seal yet at `now`.
    public static func weight(
        for proposer: PublicKey, at height: UInt64, parentTimestamp: Timestamp, now: Timestamp, delay: UInt32,
        membership: Membership
    ) -> UInt8? {
        guard membership.holds(proposer, .authority) else { return nil }
        if inTurn(at: height, membership: membership) == proposer { return inTurnWeight }
        return now.milliseconds(since: parentTimestamp) >= Int64(delay) ? outOfTurnWeight : nil
    }

    /// Signs a header as its proposer.
    public static func seal(_ header: QuantHeader, with key: SigningKey) -> QuantHeader {
        var sealed = header
        sealed.nonce = 0
        sealed.seal = key.sign(sealed.signingBytes)
        return sealed
    }

    static func check(
        _ header: QuantHeader, parent: QuantRules.Parent, delay: UInt32, membership: Membership, banned: Set<PublicKey>
    ) throws(RuleError) {
        guard membership.holds(header.proposer, .authority) else {
            throw RuleError(.notAuthorized, "proposer \(header.proposer.hex) is not an authority of this chain")
        }
        guard !banned.contains(header.proposer) else {
            throw RuleError(.equivocation, "proposer \(header.proposer.hex) signed two Quants at one height; its Quants are refused")
        }
        guard let seal = header.seal, header.proposer.verify(seal, over: header.signingBytes) else {
            throw RuleError(.badSignature, "the Quant's seal does not verify for its proposer (qbc/quant/v1)")
        }
        let inTurn = inTurn(at: header.height, membership: membership) == header.proposer
        let expected = inTurn ? inTurnWeight : outOfTurnWeight
        guard header.difficultyBits == expected, header.nonce == 0 else {
            throw RuleError(.badProof, "the Quant claims weight \(header.difficultyBits); its proposer may claim \(expected)")
        }
        if !inTurn, header.timestamp.milliseconds(since: parent.timestamp) < Int64(delay) {
            throw RuleError(.badTimestamp, "an out-of-turn Quant must be at least \(delay) ms after its parent")
        }
    }
}
