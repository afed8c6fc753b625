public import QBCCrypto

/// A lock envelope (`qbc/lock/v1`, documentation/locks.md): a payload encrypted once with a fresh
/// random key (XChaCha20-Poly1305), and that key made available by one method. The header
/// (everything before the nonce) is the AEAD's associated data, so the envelope is bound to its
/// chain, its sender and its key wraps: moved into another transaction, or altered anywhere, it
/// does not open.
public struct Lock: Sendable, Hashable {
    /// A recipient's copy of the content key, sealed to their X25519 form.
    public struct Recipient: Sendable, Hashable {
        public let key: PublicKey
        public let sealedKey: [UInt8]
    }

    /// The content key wrapped under an Argon2id key of a passphrase.
    public struct PassphraseWrap: Sendable, Hashable {
        public let salt: [UInt8]
        public let opsLimit: UInt64
        public let memLimit: UInt64
        public let nonce: [UInt8]
        public let wrappedKey: [UInt8]
    }

    /// One Shamir share of the content key, sealed to one holder.
    public struct Share: Sendable, Hashable {
        public let key: PublicKey
        public let x: UInt8
        public let sealedShare: [UInt8]
    }

    public enum Method: Sendable, Hashable {
        case recipients([Recipient])
        case passphrase(PassphraseWrap)
        case threshold(Int, [Share])
    }

    public static let contentType = "application/vnd.qbc.lock"
    /// Most recipients or share holders one envelope names.
    public static let maxHolders = 64
    static let sealedKeyBytes = AEAD.keyBytes + SealedBox.overhead

    public let chain: ChainID
    public let sender: PublicKey
    /// The content type of the plaintext.
    public let contentType: String
    public let method: Method
    public let nonce: [UInt8]
    public let ciphertext: [UInt8]

    /// The bytes the AEAD authenticates (everything before the nonce). Layout: locks.md.
    public var header: [UInt8] { Self.header(chain: chain, sender: sender, contentType: contentType, method: method) }

    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 200 + ciphertext.count)
        w.fixed(header)
        w.fixed(nonce)
        w.bytes32(ciphertext)
        return w.bytes
    }

    static func header(chain: ChainID, sender: PublicKey, contentType: String, method: Method) -> [UInt8] {
        var w = CanonicalWriter(capacity: 200)
        w.tag(.lock)
        w.fixed(chain.bytes)
        w.fixed(sender.bytes)
        w.string8(contentType)
        switch method {
        case .recipients(let recipients):
            w.u8(1)
            w.u8(UInt8(truncatingIfNeeded: recipients.count))
            for r in recipients {
                w.fixed(r.key.bytes)
                w.fixed(r.sealedKey)
            }
        case .passphrase(let p):
            w.u8(2)
            w.fixed(p.salt)
            w.u64(p.opsLimit)
            w.u64(p.memLimit)
            w.fixed(p.nonce)
            w.fixed(p.wrappedKey)
        case .threshold(let k, let shares):
            w.u8(3)
            w.u8(UInt8(truncatingIfNeeded: k))
            w.u8(UInt8(truncatingIfNeeded: shares.count))
            for s in shares {
                w.fixed(s.key.bytes)
                w.u8(s.x)
                w.fixed(s.sealedShare)
            }
        }
        return w.bytes
    }

    init(chain: ChainID, sender: PublicKey, contentType: String, method: Method, nonce: [UInt8], ciphertext: [UInt8]) {
        self.chain = chain
        self.sender = sender
        self.contentType = contentType
        self.method = method
        self.nonce = nonce
        self.ciphertext = ciphertext
    }

    /// Reads an envelope; `limit` bounds the ciphertext. Malformed input is `invalidPayload`.
    public init(decoding bytes: [UInt8], limit: Int = TransactionLimits.absoluteMaxPayloadBytes) throws(RuleError) {
        do { self = try Self.read(bytes, limit: limit) } catch {
            throw RuleError(.invalidPayload, "the lock envelope is malformed: \(error) (documentation/locks.md)")
        }
    }

    private static func read(_ bytes: [UInt8], limit: Int) throws(CanonicalReader.DecodingError) -> Lock {
        var r = CanonicalReader(bytes)
        try r.expect(.lock)
        let chain = Hash(unchecked: try r.fixed(32))
        let sender = PublicKey(unchecked: try r.fixed(32))
        let contentType = try r.string8()
        let method: Method
        switch try r.u8() {
        case 1:
            let count = Int(try r.u8())
            guard (1...maxHolders).contains(count) else { throw .tooLong(at: r.offset, limit: maxHolders) }
            var recipients = [Recipient]()
            for _ in 0..<count {
                recipients.append(Recipient(key: PublicKey(unchecked: try r.fixed(32)), sealedKey: try r.fixed(sealedKeyBytes)))
            }
            method = .recipients(recipients)
        case 2:
            method = .passphrase(PassphraseWrap(
                salt: try r.fixed(PasswordKey.saltBytes), opsLimit: try r.u64(), memLimit: try r.u64(),
                nonce: try r.fixed(AEAD.nonceBytes), wrappedKey: try r.fixed(AEAD.keyBytes + AEAD.tagBytes)))
        case 3:
            let k = Int(try r.u8())
            let count = Int(try r.u8())
            guard (1...maxHolders).contains(count), (1...count).contains(k) else { throw .tooLong(at: r.offset, limit: maxHolders) }
            var shares = [Share]()
            for _ in 0..<count {
                shares.append(Share(
                    key: PublicKey(unchecked: try r.fixed(32)), x: try r.u8(), sealedShare: try r.fixed(sealedKeyBytes)))
            }
            method = .threshold(k, shares)
        default:
            throw .wrongTag(expected: "lock method 1 (recipients), 2 (passphrase) or 3 (threshold)")
        }
        let nonce = try r.fixed(AEAD.nonceBytes)
        let ciphertext = try r.bytes32(limit: limit + AEAD.tagBytes)
        try r.finish()
        guard ciphertext.count >= AEAD.tagBytes else { throw .truncated(at: r.offset) }
        return Lock(chain: chain, sender: sender, contentType: contentType, method: method, nonce: nonce, ciphertext: ciphertext)
    }

    /// What a node checks of an envelope on admission and receipt, without building it: the layout
    /// holds and it names the transaction's own chain and sender.
    public static func checkEnvelope(_ bytes: [UInt8], chain: ChainID, sender: PublicKey) throws(RuleError) {
        let bound: Bool
        do { bound = try walk(bytes, chain: chain, sender: sender) } catch {
            throw RuleError(.invalidPayload, "the lock envelope is malformed: \(error) (documentation/locks.md)")
        }
        guard bound else {
            throw RuleError(.invalidPayload, "the lock envelope is bound to another chain or sender; lock the payload for this transaction")
        }
    }

    private static func walk(_ bytes: [UInt8], chain: ChainID, sender: PublicKey) throws(CanonicalReader.DecodingError) -> Bool {
        var r = CanonicalReader(bytes)
        try r.expect(.lock)
        let sameChain = try r.matches(chain.bytes)
        let sameSender = try r.matches(sender.bytes)
        let bound = sameChain && sameSender
        try r.skip(Int(try r.u8()))
        switch try r.u8() {
        case 1:
            let count = Int(try r.u8())
            guard (1...maxHolders).contains(count) else { throw .tooLong(at: r.offset, limit: maxHolders) }
            try r.skip(count * (32 + sealedKeyBytes))
        case 2:
            try r.skip(PasswordKey.saltBytes + 16 + AEAD.nonceBytes + AEAD.keyBytes + AEAD.tagBytes)
        case 3:
            let k = Int(try r.u8())
            let count = Int(try r.u8())
            guard (1...maxHolders).contains(count), (1...count).contains(k) else { throw .tooLong(at: r.offset, limit: maxHolders) }
            try r.skip(count * (33 + sealedKeyBytes))
        default:
            throw .wrongTag(expected: "lock method 1 (recipients), 2 (passphrase) or 3 (threshold)")
        }
        try r.skip(AEAD.nonceBytes)
        let length = Int(try r.u32())
        guard length >= AEAD.tagBytes else { throw .truncated(at: r.offset) }
        try r.skip(length)
        try r.finish()
        return bound
    }
}
