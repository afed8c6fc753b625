public import QBCCrypto

/// The creation of a chain: its rules, signed by an admin. Its hash is the chain id.
///
/// The Bang is the chain's height-0 entry; the first Quant (height 1) links to the chain id.
public struct Bang: Sendable, Hashable {
    public let rules: ChainRules
    public let timestamp: Timestamp
    public let creator: PublicKey
    public let signature: Signature
    public let id: ChainID
    public let signingBytes: [UInt8]

    /// Signs `rules` as `creator`, who must be an admin in them.
    public init(rules: ChainRules, timestamp: Timestamp, creator: SigningKey) {
        let bytes = Self.signingBytes(rules: rules, timestamp: timestamp, creator: creator.publicKey)
        self.rules = rules
        self.timestamp = timestamp
        self.creator = creator.publicKey
        signature = creator.sign(bytes)
        signingBytes = bytes
        id = Hash.blake2b(bytes)
    }

    init(rules: ChainRules, timestamp: Timestamp, creator: PublicKey, signature: Signature) {
        self.rules = rules
        self.timestamp = timestamp
        self.creator = creator
        self.signature = signature
        signingBytes = Self.signingBytes(rules: rules, timestamp: timestamp, creator: creator)
        id = Hash.blake2b(signingBytes)
    }

    /// Checks the rules, the creator's admin role and the signature.
    public func check() throws(RuleError) {
        try rules.check()
        guard rules.membership.holds(creator, .admin) else {
            throw RuleError(.invalidBang, "the Bang's creator \(creator.hex) is not an admin of the chain")
        }
        guard creator.verify(signature, over: signingBytes) else {
            throw RuleError(.badSignature, "the Bang's signature does not verify")
        }
    }

    public var encoded: [UInt8] { signingBytes + signature.bytes }

    /// Layout: documentation/protocol.md, "Bang".
    static func signingBytes(rules: ChainRules, timestamp: Timestamp, creator: PublicKey) -> [UInt8] {
        var w = CanonicalWriter()
        w.tag(.bang)
        w.string8(rules.name)
        w.u64(timestamp.milliseconds)
        w.fixed(creator.bytes)
        rules.consensus.write(to: &w)
        let members = rules.membership.sorted
        w.u32(UInt32(members.count))
        for member in members {
            w.fixed(member.key.bytes)
            w.u8(member.roles.rawValue)
        }
        let t = rules.transactionLimits
        w.u32(UInt32(t.maxPayloadBytes))
        w.u64(t.maxAgeMilliseconds)
        w.u64(t.maxFutureMilliseconds)
        let q = rules.quantLimits
        w.u32(UInt32(q.maxTransactions))
        w.u32(UInt32(q.maxBytes))
        w.u64(q.maxFutureMilliseconds)
        w.string8(rules.payload.contentType ?? "")
        w.bytes32(rules.payload.schemaText ?? [])
        w.u8(rules.adminQuorum)
        w.u32(rules.leap.intervalMilliseconds)
        w.u32(rules.leap.threshold)
        if let fork = rules.fork {
            w.u8(1)
            w.fixed(fork.parent.bytes)
            w.u64(fork.height)
            w.fixed(fork.hash.bytes)
        } else {
            w.u8(0)
        }
        w.u8(UInt8(rules.payload.lockedFields.count))
        for field in rules.payload.lockedFields { w.string8(field) }
        w.u8(rules.readersOnly ? 1 : 0)
        return w.bytes
    }

    /// Decodes `encoded`; call `check()` before trusting it. Payload rules that do not parse are a
    /// broken rule (`invalidBang`), not a decoding error.
    public init(decoding bytes: [UInt8]) throws(RuleError) {
        do { try self.init(reading: bytes) } catch let error as CanonicalReader.DecodingError {
            throw RuleError(.invalidBang, "the Bang's bytes are malformed: \(error)")
        } catch let error as RuleError {
            throw error
        } catch {
            throw RuleError(.invalidBang, "\(error)")
        }
    }

    private init(reading bytes: [UInt8]) throws {
        var r = CanonicalReader(bytes)
        try r.expect(.bang)
        let name = try r.string8()
        let timestamp = Timestamp(milliseconds: try r.u64())
        let creator = PublicKey(unchecked: try r.fixed(32))
        let consensus = try Consensus(reading: &r)
        let count = Int(try r.u32())
        guard count <= 10_000 else { throw CanonicalReader.DecodingError.tooLong(at: r.offset, limit: 10_000) }
        var roles = [PublicKey: Role]()
        for _ in 0..<count {
            roles[PublicKey(unchecked: try r.fixed(32))] = Role(rawValue: try r.u8()).intersection(.known)
        }
        let t = TransactionLimits(
            maxPayloadBytes: Int(try r.u32()), maxAgeMilliseconds: try r.u64(), maxFutureMilliseconds: try r.u64())
        let q = QuantLimits(maxTransactions: Int(try r.u32()), maxBytes: Int(try r.u32()), maxFutureMilliseconds: try r.u64())
        let contentType = try r.string8()
        let schema = try r.bytes32(limit: PayloadRules.maxSchemaBytes)
        let quorum = try r.u8()
        let leap = LeapPolicy(intervalMilliseconds: try r.u32(), threshold: try r.u32())
        var fork: ForkPoint?
        switch try r.u8() {
        case 0: break
        case 1: fork = ForkPoint(parent: Hash(unchecked: try r.fixed(32)), height: try r.u64(), hash: Hash(unchecked: try r.fixed(32)))
        default: throw CanonicalReader.DecodingError.wrongTag(expected: "fork flag 0 or 1")
        }
        var lockedFields = [String]()
        for _ in 0..<Int(try r.u8()) { lockedFields.append(try r.string8()) }
        let flags = try r.u8()
        guard flags <= 1 else { throw CanonicalReader.DecodingError.wrongTag(expected: "flags 0 or 1 (readers only)") }
        let payload = try PayloadRules(
            contentType: contentType.isEmpty ? nil : contentType, schemaText: schema.isEmpty ? nil : schema, lockedFields: lockedFields)
        let signature = Signature(unchecked: try r.fixed(64))
        try r.finish()
        let rules = ChainRules(
            name: name, consensus: consensus, membership: Membership(roles), transactionLimits: t, quantLimits: q,
            payload: payload, adminQuorum: quorum, fork: fork, leap: leap, readersOnly: flags == 1)
        self.init(rules: rules, timestamp: timestamp, creator: creator, signature: signature)
    }
}
