public import QBCCrypto

/// Proof that one authority sealed two different Quants on one parent of one chain: both headers,
/// each with a seal that verifies for the same proposer. Two headers at one height on different
/// parents prove nothing: an honest authority seals again at a height after its branch lost.
/// Anyone can check it. Nodes store it, pass it on, and refuse that authority's Quants above the height (consensus.md,
/// "Equivocation").
public struct Equivocation: Sendable, Hashable {
    /// The two headers, the one with the lower hash first, so one pair is one piece of evidence.
    public let first: QuantHeader
    public let second: QuantHeader

    public var proposer: PublicKey { first.proposer }
    public var height: UInt64 { first.height }
    public var chain: ChainID { first.chain }

    /// Evidence from two headers, or nil when they prove nothing: another chain, height, parent
    /// or proposer, the same Quant, or a seal that does not verify.
    public init?(_ a: QuantHeader, _ b: QuantHeader) {
        let (hashA, hashB) = (a.hash, b.hash)
        guard a.chain == b.chain, a.height == b.height, a.previous == b.previous, a.proposer == b.proposer, hashA != hashB,
            let sealA = a.seal, let sealB = b.seal,
            a.proposer.verify(sealA, over: a.signingBytes), b.proposer.verify(sealB, over: b.signingBytes)
        else { return nil }
        (first, second) = hashA < hashB ? (a, b) : (b, a)
    }
}
