public import QBCCrypto

/// A Quant's header: what links it into its chain and proves its consensus.
public struct QuantHeader: Sendable, Hashable {
    public var chain: ChainID
    public var height: UInt64
    public var previous: Hash
    public var timestamp: Timestamp
    public var merkleRoot: Hash
    public var transactionCount: UInt32
    public var proposer: PublicKey
    /// Proof of work: the difficulty met. Proof of authority: the claimed weight (2 in turn, 1 out of turn).
    public var difficultyBits: UInt8
    public var nonce: UInt64
    /// Proof of authority: the proposer's signature over the signing bytes; nil under proof of work.
    public var seal: Signature?

    public init(
        chain: ChainID, height: UInt64, previous: Hash, timestamp: Timestamp, merkleRoot: Hash,
        transactionCount: UInt32, proposer: PublicKey, difficultyBits: UInt8, nonce: UInt64, seal: Signature? = nil
    ) {
        self.chain = chain
        self.height = height
        self.previous = previous
        self.timestamp = timestamp
        self.merkleRoot = merkleRoot
        self.transactionCount = transactionCount
        self.proposer = proposer
        self.difficultyBits = difficultyBits
        self.nonce = nonce
        self.seal = seal
    }

    /// Stored and sent form: the signing bytes, then `0x00`, or `0x01` and the 64-byte seal.
    public var encoded: [UInt8] {
        var bytes = signingBytes
        if let seal {
            bytes.append(1)
            bytes += seal.bytes
        } else {
            bytes.append(0)
        }
        return bytes
    }

    /// Layout: documentation/protocol.md, "Quant header". 170 bytes; hashed, and signed under PoA.
    public var signingBytes: [UInt8] {
        var w = CanonicalWriter(capacity: 170)
        w.tag(.quant)
        w.fixed(chain.bytes)
        w.u64(height)
        w.fixed(previous.bytes)
        w.u64(timestamp.milliseconds)
        w.fixed(merkleRoot.bytes)
        w.u32(transactionCount)
        w.fixed(proposer.bytes)
        w.u8(difficultyBits)
        w.u64(nonce)
        return w.bytes
    }

    /// The Quant's hash (its id): BLAKE2b-256 of the signing bytes (the seal is not hashed).
    public var hash: Hash { Hash.blake2b(signingBytes) }

    public init(decoding bytes: [UInt8]) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        try r.expect(.quant)
        chain = Hash(unchecked: try r.fixed(32))
        height = try r.u64()
        previous = Hash(unchecked: try r.fixed(32))
        timestamp = Timestamp(milliseconds: try r.u64())
        merkleRoot = Hash(unchecked: try r.fixed(32))
        transactionCount = try r.u32()
        proposer = PublicKey(unchecked: try r.fixed(32))
        difficultyBits = try r.u8()
        nonce = try r.u64()
        switch try r.u8() {
        case 0: seal = nil
        case 1: seal = Signature(unchecked: try r.fixed(Signature.byteCount))
        default: throw .wrongTag(expected: "seal flag 0 or 1")
        }
        try r.finish()
    }
}

extension QuantHeader {
    /// The header sealed by its proposer's signature, nonce 0 (proof of authority and BFT).
    public func signed(with key: SigningKey) -> QuantHeader {
        var sealed = self
        sealed.nonce = 0
        sealed.seal = key.sign(sealed.signingBytes)
        return sealed
    }

    /// Refuses a header whose proposer is not an authority of `membership`, is refused by evidence
    /// above this height (`evidence` says what it did), or whose seal does not verify: what proof
    /// of authority and BFT both ask of a header.
    public func checkSealedByAuthority(membership: Membership, banned: Equivocators, evidence: String) throws(RuleError) {
        guard membership.holds(proposer, .authority) else {
            throw RuleError(.notAuthorized, "proposer \(proposer.hex) is not an authority of this chain")
        }
        guard !banned.refuses(self) else {
            throw RuleError(.equivocation, "proposer \(proposer.hex) \(evidence); its Quants above that height are refused")
        }
        try checkSeal()
    }

    /// Refuses a header whose seal is missing or does not verify for its proposer.
    public func checkSeal() throws(RuleError) {
        guard let seal, proposer.verify(seal, over: signingBytes) else {
            throw RuleError(.badSignature, "the Quant's seal does not verify for its proposer (qbc/quant/v1)")
        }
    }
}

/// A sealed block: a header and its transactions in order, and under BFT the certificate that
/// makes it final (not hashed: it is made after the Quant).
public struct Quant: Sendable, Hashable {
    public let header: QuantHeader
    public let transactions: [Transaction]
    public let hash: Hash
    public let certificate: CommitCertificate?

    public init(header: QuantHeader, transactions: [Transaction], certificate: CommitCertificate? = nil) {
        self.header = header
        self.transactions = transactions
        self.certificate = certificate
        hash = header.hash
    }

    /// The same Quant with its certificate.
    public func certified(by certificate: CommitCertificate) -> Quant {
        Quant(header: header, transactions: transactions, certificate: certificate)
    }
}
