public import QBCCrypto

/// The id of a chain: the BLAKE2b-256 hash of its Bang's signing bytes.
public typealias ChainID = Hash
/// The id of a transaction: the BLAKE2b-256 hash of its signing bytes.
public typealias TransactionID = Hash

/// 16 random bytes chosen by the sender so that two otherwise equal transactions differ.
public struct Nonce: FixedBytes {
    public static let byteCount = 16
    public static let name = "nonce"
    public let bytes: [UInt8]
    public init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// A fresh random nonce.
    public static func random() -> Nonce { Nonce(unchecked: SecureRandom.bytes(byteCount)) }
}

/// A signed transaction: data a member submits to one chain.
///
/// The signature and the id both cover `signingBytes`, the canonical encoding of the
/// body behind the `qbc/tx/v1` tag (documentation/protocol.md). The payload is carried as
/// the exact bytes the sender signed.
public struct Transaction: Sendable, Hashable {
    /// Everything the sender signs.
    public struct Body: Sendable, Hashable {
        public let chain: ChainID
        public let sender: PublicKey
        public let nonce: Nonce
        public let timestamp: Timestamp
        public let contentType: String
        public let payload: [UInt8]

        public init(
            chain: ChainID, sender: PublicKey, nonce: Nonce, timestamp: Timestamp, contentType: String,
            payload: [UInt8]
        ) {
            self.chain = chain
            self.sender = sender
            self.nonce = nonce
            self.timestamp = timestamp
            self.contentType = contentType
            self.payload = payload
        }

        /// The canonical signing bytes.
        public var signingBytes: [UInt8] {
            var w = CanonicalWriter(capacity: 110 + contentType.utf8.count + payload.count)
            write(to: &w)
            return w.bytes
        }

        func write(to w: inout CanonicalWriter) {
            w.tag(.transaction)
            w.fixed(chain.bytes)
            w.fixed(sender.bytes)
            w.fixed(nonce.bytes)
            w.u64(timestamp.milliseconds)
            w.string8(contentType)
            w.bytes32(payload)
        }
    }

    /// The fields live in one shared, immutable box: a transaction is copied through the mempool,
    /// Leaps, checks and storage, and a copy then costs one reference count instead of one per
    /// field (retain and release took a quarter of a Leap's CPU before, issue 18).
    @usableFromInline final class Storage: Sendable {
        @usableFromInline let body: Body
        @usableFromInline let signature: Signature
        @usableFromInline let id: TransactionID
        @usableFromInline let encodedSize: Int

        init(body: Body, signature: Signature, id: TransactionID) {
            self.body = body
            self.signature = signature
            self.id = id
            encodedSize = 10 + 32 + 32 + 16 + 8 + 1 + body.contentType.utf8.count + 4 + body.payload.count + 64
        }
    }

    @usableFromInline let storage: Storage

    @inlinable public var body: Body { storage.body }
    @inlinable public var signature: Signature { storage.signature }
    /// BLAKE2b-256 of the signing bytes; computed once.
    @inlinable public var id: TransactionID { storage.id }

    /// The canonical signing bytes, built on demand: they are needed once to verify and once
    /// to store, and keeping them would double the memory of every waiting transaction.
    public var signingBytes: [UInt8] { body.signingBytes }

    /// Size of the binary form (signing bytes and signature), computed once.
    @inlinable public var encodedSize: Int { storage.encodedSize }

    /// Pairs a body with a signature. Call `hasValidSignature` before trusting it.
    public init(body: Body, signature: Signature) {
        storage = Storage(body: body, signature: signature, id: Hash.blake2b(body.signingBytes))
    }

    /// Pairs a body with a signature and the id its decoder hashed from the very signing bytes it
    /// read (decoding is canonical: those bytes are what `signingBytes` would build).
    init(body: Body, signature: Signature, id: TransactionID) {
        // Debug builds (every test run) check what the decoder's canonical form promises.
        assert(id == Hash.blake2b(body.signingBytes), "an id hashed while decoding differs from the signing bytes' hash")
        storage = Storage(body: body, signature: signature, id: id)
    }

    /// Signs `body` with `key`; the body's sender must be `key.publicKey`.
    public init(signing body: Body, with key: SigningKey) {
        precondition(body.sender == key.publicKey, "a transaction must be signed by its sender")
        let bytes = body.signingBytes
        storage = Storage(body: body, signature: key.sign(bytes), id: Hash.blake2b(bytes))
    }

    /// True when the signature verifies for the sender over the signing bytes.
    public var hasValidSignature: Bool {
        body.sender.verify(signature, over: signingBytes)
    }

    @inlinable public var chain: ChainID { storage.body.chain }
    @inlinable public var sender: PublicKey { storage.body.sender }
    @inlinable public var timestamp: Timestamp { storage.body.timestamp }
    @inlinable public var contentType: String { storage.body.contentType }
    @inlinable public var payload: [UInt8] { storage.body.payload }

    public static func == (lhs: Transaction, rhs: Transaction) -> Bool {
        lhs.id == rhs.id && lhs.signature == rhs.signature
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

extension Transaction {
    /// A new transaction from `signer` at `timestamp`, with a fresh random nonce, signed.
    public static func make(chain: ChainID, contentType: String, payload: [UInt8], signer: SigningKey, at timestamp: Timestamp) -> Transaction {
        let body = Transaction.Body(
            chain: chain, sender: signer.publicKey, nonce: .random(), timestamp: timestamp, contentType: contentType, payload: payload)
        return Transaction(signing: body, with: signer)
    }
}
