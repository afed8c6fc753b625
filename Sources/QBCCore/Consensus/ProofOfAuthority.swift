public import QBCCrypto

/// Proof of authority: who may seal at a height, with what weight, and how a seal is checked.
///
/// Authorities are the members with the `authority` role, in byte order of their keys. The
/// in-turn authority at height h is `authorities[h % count]`; its Quants weigh 2. Any other
/// authority may seal once the out-of-turn delay has passed since the parent's timestamp; those
/// weigh 1 (consensus.md, "Proof of authority").
public struct ProofOfAuthorityEngine: ConsensusEngine {
    public static let code: UInt8 = 2
    public static let name = "poa"
    public static let parameterNames = ["outOfTurnDelayMilliseconds"]
    public static let inTurnWeight: UInt8 = 2
    public static let outOfTurnWeight: UInt8 = 1

    public let outOfTurnDelayMilliseconds: UInt32

    public init(outOfTurnDelayMilliseconds: UInt32) { self.outOfTurnDelayMilliseconds = outOfTurnDelayMilliseconds }

    public init(parameters: [String: UInt64]) throws(RuleError) {
        let delay = parameters["outOfTurnDelayMilliseconds"] ?? 1000
        guard delay <= UInt64(UInt32.max) else { throw RuleError(.invalidBang, "the out-of-turn delay must be 100 ms to 1 hour") }
        outOfTurnDelayMilliseconds = UInt32(delay)
    }

    public var parameters: [String: UInt64] { ["outOfTurnDelayMilliseconds": UInt64(outOfTurnDelayMilliseconds)] }

    /// Layout: the out-of-turn delay (u32).
    public init(reading r: inout CanonicalReader) throws(CanonicalReader.DecodingError) {
        outOfTurnDelayMilliseconds = try r.u32()
    }

    public func write(to w: inout CanonicalWriter) { w.u32(outOfTurnDelayMilliseconds) }

    public func check(_ membership: Membership) throws(RuleError) {
        guard (100...3_600_000).contains(outOfTurnDelayMilliseconds) else {
            throw RuleError(.invalidBang, "the out-of-turn delay must be 100 ms to 1 hour")
        }
        guard !membership.members(with: .authority).isEmpty else {
            throw RuleError(.invalidBang, "proof of authority needs at least one member with the authority role")
        }
    }

    public var difficultyBits: UInt8 { 0 }

    public func windowStart(above parentHeight: UInt64) -> UInt64? { nil }

    public static func authorities(_ membership: Membership) -> [PublicKey] { membership.members(with: .authority) }

    /// The authority whose turn it is at `height`, or nil when the chain has none.
    public static func inTurn(at height: UInt64, membership: Membership) -> PublicKey? {
        let list = authorities(membership)
        return list.isEmpty ? nil : list[Int(height % UInt64(list.count))]
    }

    /// The weight `proposer` may claim at `height`, or nil when it may not seal yet at `now`.
    public func weight(for proposer: PublicKey, at height: UInt64, parentTimestamp: Timestamp, now: Timestamp, membership: Membership) -> UInt8? {
        guard membership.holds(proposer, .authority) else { return nil }
        if Self.inTurn(at: height, membership: membership) == proposer { return Self.inTurnWeight }
        return now.milliseconds(since: parentTimestamp) >= Int64(outOfTurnDelayMilliseconds) ? Self.outOfTurnWeight : nil
    }

    public func prepare(_ header: QuantHeader, parent: QuantRules.Parent, now: Timestamp, membership: Membership) -> QuantHeader? {
        guard let weight = weight(
            for: header.proposer, at: header.height, parentTimestamp: parent.timestamp, now: now, membership: membership)
        else { return nil }
        var prepared = header
        prepared.difficultyBits = weight
        prepared.nonce = 0
        return prepared
    }

    public var sealsBySearch: Bool { false }
    public var sealsOncePerParent: Bool { true }

    /// Signs the header as its proposer (worker 0 only: a signature is not a search).
    public func seal(_ header: QuantHeader, with key: SigningKey, worker: Int, of workers: Int, shouldStop: () -> Bool) -> QuantHeader? {
        worker == 0 ? header.signed(with: key) : nil
    }

    public func checkProof(_ header: QuantHeader, parent: QuantRules.Parent, membership: Membership, banned: Equivocators) throws(RuleError) {
        try header.checkSealedByAuthority(membership: membership, banned: banned, evidence: "signed two Quants on one parent")
        let inTurn = Self.inTurn(at: header.height, membership: membership) == header.proposer
        let expected = inTurn ? Self.inTurnWeight : Self.outOfTurnWeight
        guard header.difficultyBits == expected, header.nonce == 0 else {
            throw RuleError(.badProof, "the Quant claims weight \(header.difficultyBits); its proposer may claim \(expected)")
        }
        if !inTurn, header.timestamp.milliseconds(since: parent.timestamp) < Int64(outOfTurnDelayMilliseconds) {
            throw RuleError(.badTimestamp, "an out-of-turn Quant must be at least \(outOfTurnDelayMilliseconds) ms after its parent")
        }
    }

    /// 2 in turn, 1 out of turn (the claim was checked).
    public func weight(of header: QuantHeader) -> Int64 { Int64(min(header.difficultyBits, Self.inTurnWeight)) }

    public func equivocation(_ a: QuantHeader, _ b: QuantHeader) -> Equivocation? { Equivocation(a, b) }
}
