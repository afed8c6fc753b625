public import QBCCrypto

/// A reader's read key entering a chain (documentation/locks.md, "Anonymous reads"): the
/// payload of a transaction of content type `application/vnd.qbc.read-key` that the reader
/// signs itself, with a proof that it holds the key's secret. A member's latest registration is
/// its read key; the keys of members holding the reader role make the chain's key set.
public struct ReadKeyRegistration: Sendable, Hashable {
    public static let contentType = "application/vnd.qbc.read-key"
    public static let encodedBytes = 16 + 32 + 32 + 32 + 64

    public let chain: ChainID
    public let member: PublicKey
    public let key: RistrettoPoint
    /// R ‖ s: a Schnorr proof of knowledge of the key's secret over `possessionBytes`.
    public let proof: [UInt8]

    /// `qbc/read-key/v1\0 ‖ chain ‖ member ‖ read key`: what the proof of possession signs, so a
    /// key and its proof cannot be taken by another member or to another chain.
    public static func possessionBytes(chain: ChainID, member: PublicKey, key: RistrettoPoint) -> [UInt8] {
        var w = CanonicalWriter(capacity: encodedBytes)
        w.tag(.readKey)
        w.fixed(chain.bytes)
        w.fixed(member.bytes)
        w.fixed(key.bytes)
        return w.bytes
    }

    public var encoded: [UInt8] { Self.possessionBytes(chain: chain, member: member, key: key) + proof }

    /// The registration of `identity`'s read key (derived from its seed) on `chain`. The proof's
    /// nonce is random except in test vectors.
    public init(chain: ChainID, identity: SigningKey, proofNonce: RistrettoScalar = .random()) {
        let secret = ReadSecret(of: identity)
        self.chain = chain
        member = identity.publicKey
        key = secret.publicKey
        proof = secret.proveKnowledge(of: Self.possessionBytes(chain: chain, member: member, key: key), nonce: proofNonce)
    }

    public init(decoding bytes: [UInt8]) throws(RuleError) {
        var r = CanonicalReader(bytes)
        let point: [UInt8]
        do throws(CanonicalReader.DecodingError) {
            try r.expect(.readKey)
            chain = Hash(unchecked: try r.fixed(32))
            member = PublicKey(unchecked: try r.fixed(32))
            point = try r.fixed(32)
            proof = try r.fixed(64)
            try r.finish()
        } catch {
            throw RuleError(.invalidPayload, "read key registration: \(error) (documentation/protocol.md, \"Read keys and anonymous read proofs\")")
        }
        do { key = try RistrettoPoint(validating: point) } catch {
            throw RuleError(.invalidPayload, "the read key is not a ristretto255 point other than the identity")
        }
    }

    /// Decodes `tx`'s payload and checks it: for this chain, naming its sender, with a proof of
    /// possession that verifies. Stateless; who may send it (readers) is the membership's rule.
    public static func checked(_ tx: Transaction) throws(RuleError) -> ReadKeyRegistration {
        let registration = try ReadKeyRegistration(decoding: tx.payload)
        guard registration.chain == tx.chain else { throw RuleError(.wrongChain, "the read key registration names chain \(registration.chain.hex)") }
        guard registration.member == tx.sender else {
            throw RuleError(.invalidPayload, "a read key is registered by its own member; this one names \(registration.member.hex)")
        }
        let message = possessionBytes(chain: registration.chain, member: registration.member, key: registration.key)
        guard ReadSecret.verifyKnowledge(registration.proof, of: message, key: registration.key) else {
            throw RuleError(.badSignature, "the proof of possession of the read key does not verify")
        }
        return registration
    }
}

/// The read keys of a chain's readers at some height: sorted, without repeats, and named by a
/// hash so a proof says which set it was made over.
public struct ReadKeySet: Sendable, Hashable {
    public let keys: [RistrettoPoint]
    /// BLAKE2b-256(`qbc/read-key-set/v1\0 ‖ u16 n ‖ keys`).
    public let hash: Hash

    public init(_ keys: [RistrettoPoint]) {
        self.keys = Array(Set(keys)).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        var w = CanonicalWriter(capacity: 24 + 32 * self.keys.count)
        w.tag(.readKeySet)
        w.u16(UInt16(truncatingIfNeeded: self.keys.count))
        for key in self.keys { w.fixed(key.bytes) }
        hash = Hash.blake2b(w.bytes)
    }
}

extension Membership {
    /// The read keys of members who hold the reader role now.
    public var readKeySet: ReadKeySet {
        ReadKeySet(readKeys.compactMap { member, key in holds(member, .reader) ? key : nil })
    }
}

/// Reads of a readers-only chain by "some reader" (documentation/locks.md, "Anonymous reads"):
/// a one-of-n proof over the chain's read key set, bound to a single-use challenge, the chain,
/// the method and the path. The node learns that a reader asked, not which.
public enum AnonymousRead {
    /// The largest key set a proof may be made over: 64 bytes a key, sent in one header.
    public static let maxKeys = 512

    /// Why a proof is refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// Made over another key set than the chain's now (a membership or key change in between).
        case staleKeySet
        /// Not the size of the set, or a scalar that is not canonical or is zero.
        case malformed
        /// Does not verify over this chain, challenge and request.
        case doesNotVerify
    }

    /// `qbc/anon-read/v1\0 ‖ chain ‖ nonce (32) ‖ string8 method ‖ string16 path ‖ key set hash`,
    /// hashed first into the proof's challenge.
    public static func context(chain: ChainID, nonce: [UInt8], method: String, path: String, keySet: Hash) -> [UInt8] {
        var w = CanonicalWriter(capacity: 128 + path.utf8.count)
        w.tag(.anonymousRead)
        w.fixed(chain.bytes)
        w.fixed(nonce)
        w.string8(method)
        w.string16(path)
        w.fixed(keySet.bytes)
        return w.bytes
    }

    /// A proof for one request; nil when `secret`'s key is not in `set`.
    public static func prove(
        _ secret: ReadSecret, set: ReadKeySet, chain: ChainID, nonce: [UInt8], method: String, path: String,
        random: () -> RistrettoScalar = RistrettoScalar.random
    ) -> RingProof? {
        guard let index = set.keys.firstIndex(of: secret.publicKey) else { return nil }
        let context = context(chain: chain, nonce: nonce, method: method, path: path, keySet: set.hash)
        return RingProof.prove(secret, at: index, among: set.keys, context: context, random: random)
    }

    /// Checks a proof's bytes, made over the set named `claimed`, against the chain's `set` now.
    public static func check(
        _ proof: [UInt8], claimed: Hash, set: ReadKeySet, chain: ChainID, nonce: [UInt8], method: String, path: String
    ) throws(Refusal) {
        guard claimed == set.hash else { throw .staleKeySet }
        guard nonce.count == ReadProof.nonceBytes, method.utf8.count <= 16, path.utf8.count <= Int(UInt16.max),
            let decoded = try? RingProof(decoding: proof, count: set.keys.count)
        else { throw .malformed }
        let context = context(chain: chain, nonce: nonce, method: method, path: path, keySet: set.hash)
        guard decoded.verifies(among: set.keys, context: context) else { throw .doesNotVerify }
    }
}
