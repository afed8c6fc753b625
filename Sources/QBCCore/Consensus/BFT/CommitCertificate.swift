public import QBCCrypto

/// Proof that a Quant is final under the BFT engine: precommits for it from a quorum of the
/// authorities at its height, all in one round (consensus.md, "Commit certificates"). Anyone with
/// the chain's membership can check it; a new node trusts no one for finality.
public struct CommitCertificate: Sendable, Hashable {
    /// One authority's precommit signature.
    public struct Signer: Sendable, Hashable {
        public let key: PublicKey
        public let signature: Signature

        public init(key: PublicKey, signature: Signature) {
            self.key = key
            self.signature = signature
        }
    }

    public let round: UInt32
    /// In ascending byte order of the keys, each key once.
    public let signers: [Signer]

    /// Sorts the signers by key; a key given twice keeps its first signature.
    public init(round: UInt32, signers: [Signer]) {
        self.round = round
        var seen = Set<PublicKey>()
        self.signers = signers.filter { seen.insert($0.key).inserted }.sorted { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
    }

    /// Layout: round (u32), count (u16), then per signer its key (32) and signature (64), keys
    /// strictly ascending.
    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 6 + 96 * signers.count)
        w.u32(round)
        w.u16(UInt16(truncatingIfNeeded: signers.count))
        for signer in signers {
            w.fixed(signer.key.bytes)
            w.fixed(signer.signature.bytes)
        }
        return w.bytes
    }

    /// Refuses more than `BFTEngine.maxAuthorities` signers and keys out of order or repeated, so
    /// one certificate has one encoding.
    public init(decoding bytes: [UInt8]) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        round = try r.u32()
        let count = Int(try r.u16())
        guard count <= BFTEngine.maxAuthorities else { throw .tooLong(at: 4, limit: BFTEngine.maxAuthorities) }
        var signers = [Signer]()
        signers.reserveCapacity(count)
        for _ in 0..<count {
            let key = PublicKey(unchecked: try r.fixed(32))
            if let last = signers.last, !last.key.bytes.lexicographicallyPrecedes(key.bytes) {
                throw .wrongTag(expected: "certificate signers in strictly ascending key order")
            }
            signers.append(Signer(key: key, signature: Signature(unchecked: try r.fixed(Signature.byteCount))))
        }
        try r.finish()
        self.signers = signers
    }

    /// Checks that a quorum of `authorities` (the authorities at the Quant's height: the
    /// membership after its parent) precommitted `hash` at this round. Cheap refusals first: a
    /// stranger's certificate costs at most one signature check per authority.
    public func check(header: QuantHeader, hash: Hash, authorities: [PublicKey]) throws(RuleError) {
        let quorum = BFTEngine.quorum(authorities.count)
        guard signers.count >= quorum else {
            throw RuleError(.badCertificate, "the certificate holds \(signers.count) precommits; \(quorum) of \(authorities.count) authorities are needed")
        }
        let allowed = Set(authorities)
        if let stranger = signers.first(where: { !allowed.contains($0.key) }) {
            throw RuleError(.badCertificate, "certificate signer \(stranger.key.hex) is not an authority at height \(header.height)")
        }
        let bytes = Vote.signingBytes(.precommit, chain: header.chain, height: header.height, round: round, quant: hash)
        for signer in signers where !signer.key.verify(signer.signature, over: bytes) {
            throw RuleError(.badCertificate, "the precommit of \(signer.key.hex) in the certificate does not verify (qbc/bft-precommit/v1)")
        }
    }

    /// The keys that signed both certificates: authorities that precommitted two Quants at one
    /// height (each certificate checked already).
    public func commonSigners(with other: CommitCertificate) -> [PublicKey] {
        let theirs = Set(other.signers.map(\.key))
        return signers.map(\.key).filter { theirs.contains($0) }
    }
}
