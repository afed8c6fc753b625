public import QBCCrypto

/// One authority's vote in a round of the BFT engine: a prevote or a precommit for a Quant (by
/// hash) or for none ("nil"), at one height and round of one chain (consensus.md, "BFT").
public struct Vote: Sendable, Hashable {
    public enum Kind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        case prevote = 1
        case precommit = 2

        var tag: DomainTag { self == .prevote ? .prevote : .precommit }
        public var description: String { self == .prevote ? "prevote" : "precommit" }
    }

    public let kind: Kind
    public let chain: ChainID
    public let height: UInt64
    public let round: UInt32
    /// The Quant voted for; nil for a vote for no Quant.
    public let quant: Hash?
    public let voter: PublicKey
    public let signature: Signature

    public init(kind: Kind, chain: ChainID, height: UInt64, round: UInt32, quant: Hash?, voter: PublicKey, signature: Signature) {
        self.kind = kind
        self.chain = chain
        self.height = height
        self.round = round
        self.quant = quant
        self.voter = voter
        self.signature = signature
    }

    /// Signs a vote with an authority's key.
    public init(_ kind: Kind, chain: ChainID, height: UInt64, round: UInt32, quant: Hash?, with key: SigningKey) {
        self.init(
            kind: kind, chain: chain, height: height, round: round, quant: quant, voter: key.publicKey,
            signature: key.sign(Self.signingBytes(kind, chain: chain, height: height, round: round, quant: quant)))
    }

    /// What a vote's signature covers: the kind's own domain tag, the chain, height, round, and a
    /// flag byte (0: nil, 1: a Quant) followed by the Quant's hash. 53 or 85 bytes after the tag.
    public static func signingBytes(_ kind: Kind, chain: ChainID, height: UInt64, round: UInt32, quant: Hash?) -> [UInt8] {
        var w = CanonicalWriter(capacity: 112)
        w.tag(kind.tag)
        writeStep(chain: chain, height: height, round: round, quant: quant, to: &w)
        return w.bytes
    }

    private static func writeStep(chain: ChainID, height: UInt64, round: UInt32, quant: Hash?, to w: inout CanonicalWriter) {
        w.fixed(chain.bytes)
        w.u64(height)
        w.u32(round)
        if let quant {
            w.u8(1)
            w.fixed(quant.bytes)
        } else {
            w.u8(0)
        }
    }

    public var signingBytes: [UInt8] { Self.signingBytes(kind, chain: chain, height: height, round: round, quant: quant) }

    public var verifies: Bool { voter.verify(signature, over: signingBytes) }

    /// Sent form: the kind (u8), chain, height (u64), round (u32), flag and hash, voter, signature.
    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 214)
        write(to: &w)
        return w.bytes
    }

    func write(to w: inout CanonicalWriter) {
        w.u8(kind.rawValue)
        Self.writeStep(chain: chain, height: height, round: round, quant: quant, to: &w)
        w.fixed(voter.bytes)
        w.fixed(signature.bytes)
    }

    public init(decoding bytes: [UInt8]) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        try self.init(reading: &r)
        try r.finish()
    }

    init(reading r: inout CanonicalReader) throws(CanonicalReader.DecodingError) {
        guard let kind = Kind(rawValue: try r.u8()) else { throw .wrongTag(expected: "vote kind 1 (prevote) or 2 (precommit)") }
        self.kind = kind
        chain = Hash(unchecked: try r.fixed(32))
        height = try r.u64()
        round = try r.u32()
        switch try r.u8() {
        case 0: quant = nil
        case 1: quant = Hash(unchecked: try r.fixed(32))
        default: throw .wrongTag(expected: "vote flag 0 (nil) or 1 (a Quant)")
        }
        voter = PublicKey(unchecked: try r.fixed(32))
        signature = Signature(unchecked: try r.fixed(Signature.byteCount))
    }
}

/// The authority whose turn it is to propose at one round of a height proposes a Quant: one it
/// built, or under a lock from an earlier round the Quant it saw a quorum prevote for
/// (`validRound`). The Quant's header is sealed by whoever built it; the proposal is signed by the
/// round's proposer, over the chain, height, round, valid round and the Quant's hash.
public struct Proposal: Sendable {
    public let quant: Quant
    public let round: UInt32
    /// The round in which a quorum prevoted for this Quant, or nil for a new Quant.
    public let validRound: UInt32?
    public let proposer: PublicKey
    public let signature: Signature

    public var chain: ChainID { quant.header.chain }
    public var height: UInt64 { quant.header.height }

    public init(quant: Quant, round: UInt32, validRound: UInt32?, proposer: PublicKey, signature: Signature) {
        self.quant = quant
        self.round = round
        self.validRound = validRound
        self.proposer = proposer
        self.signature = signature
    }

    public init(quant: Quant, round: UInt32, validRound: UInt32?, with key: SigningKey) {
        self.init(
            quant: quant, round: round, validRound: validRound, proposer: key.publicKey,
            signature: key.sign(Self.signingBytes(quant.header, hash: quant.hash, round: round, validRound: validRound)))
    }

    /// The proposal tag, chain, height (u64), round (u32), valid round (u32, 0xFFFFFFFF for none)
    /// and the Quant's hash.
    public static func signingBytes(_ header: QuantHeader, hash: Hash, round: UInt32, validRound: UInt32?) -> [UInt8] {
        var w = CanonicalWriter(capacity: 112)
        w.tag(.proposal)
        w.fixed(header.chain.bytes)
        w.u64(header.height)
        w.u32(round)
        w.u32(validRound ?? Self.noRound)
        w.fixed(hash.bytes)
        return w.bytes
    }

    public var signingBytes: [UInt8] { Self.signingBytes(quant.header, hash: quant.hash, round: round, validRound: validRound) }

    public var verifies: Bool { proposer.verify(signature, over: signingBytes) }

    /// A valid round of "none" in the signed bytes.
    public static let noRound = UInt32.max
}
