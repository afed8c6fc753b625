import Foundation
import Hummingbird
import QBCClient
import QBCCore
import QBCCrypto
import QBCNode
import QBCWire
import Synchronization

/// Challenges for readers-only chains, issued without keeping anything: a nonce carries its expiry
/// and a random part under a MAC only this process can make (bound to the chain), so a flood of
/// `GET /challenge` costs the node nothing and locks no reader out. A nonce is single-use: once a
/// valid proof redeems it, it is remembered until it expires, so the same proof never reads twice.
final class ReadGate: Sendable {
    static let lifetimeMilliseconds: UInt64 = 60_000
    /// Redeemed nonces remembered at most (only valid proofs by readers add to it).
    static let capacity = 100_000
    private let authenticator = MessageAuthenticator()
    private let redeemed = Mutex<[[UInt8]: Timestamp]>([:])

    /// Layout of a nonce (32 bytes): expiry (u64 milliseconds), 8 random bytes, 16 bytes of
    /// HMAC-SHA-512-256 over `qbc/challenge/v1`, the chain id, the expiry and the random bytes.
    func challenge(chain: ChainID, now: Timestamp) -> (nonce: [UInt8], expires: Timestamp) {
        let expires = Timestamp(milliseconds: now.milliseconds + Self.lifetimeMilliseconds)
        var w = CanonicalWriter(capacity: ReadProof.nonceBytes)
        w.u64(expires.milliseconds)
        w.fixed(SecureRandom.bytes(8))
        let tag = authenticator.tag(Self.macInput(chain: chain, head: w.bytes))
        w.fixed(Array(tag.prefix(16)))
        return (w.bytes, expires)
    }

    private static func macInput(chain: ChainID, head: [UInt8]) -> [UInt8] { Array("qbc/challenge/v1".utf8) + chain.bytes + head }

    /// True when this node issued `nonce` for `chain` and it has not expired.
    func isIssued(_ nonce: [UInt8], chain: ChainID, now: Timestamp) -> Bool {
        guard nonce.count == ReadProof.nonceBytes else { return false }
        var r = CanonicalReader(nonce)
        guard let expiry = try? r.u64(), now.milliseconds < expiry, expiry - now.milliseconds <= Self.lifetimeMilliseconds else {
            return false
        }
        return authenticator.verify(Array(nonce.suffix(16)), of: Self.macInput(chain: chain, head: Array(nonce.prefix(16))))
    }

    /// Marks a nonce used; false when it was used already (or the memory of used ones is full).
    func redeem(_ nonce: [UInt8], now: Timestamp) -> Bool {
        var reader = CanonicalReader(nonce)
        let expiry = Timestamp(milliseconds: (try? reader.u64()) ?? 0)
        return redeemed.withLock { table in
            guard table[nonce] == nil else { return false }
            if table.count >= Self.capacity { table = table.filter { $0.value > now } }
            guard table.count < Self.capacity else { return false }
            table[nonce] = expiry
            return true
        }
    }

    /// Lets the request through to a readers-only chain only with a valid proof (headers
    /// QBC-Reader, QBC-Nonce, QBC-Proof); other chains pass.
    /// Returns the reader whose proof was checked; nil on an open chain.
    @discardableResult
    func admit(_ request: Request, to chain: ChainService, now: Timestamp) throws -> PublicKey? {
        guard chain.rules.readersOnly else { return nil }
        func header(_ name: String) -> String? { request.headers.first { $0.name.canonicalName == name.lowercased() }?.value }
        guard let readerText = header(QBCHeader.reader), let nonceText = header(QBCHeader.nonce),
            let proofText = header(QBCHeader.proof)
        else {
            throw APIError(.unauthorized, "proof_required", "chain \(chain.rules.name) is read by its readers only: GET its /challenge, sign qbc/read-proof/v1 and send QBC-Reader, QBC-Nonce, QBC-Proof (documentation/locks.md)")
        }
        guard let reader = try? PublicKey(hex: readerText), let nonce = try? Hex.decode(nonceText),
            let proof = try? Signature(hex: proofText)
        else { throw APIError(.unauthorized, "bad_signature", "the read proof headers are malformed") }
        guard isIssued(nonce, chain: chain.id, now: now) else {
            throw APIError(.unauthorized, "stale_challenge", "the challenge is unknown, expired or already used: get a fresh one")
        }
        do throws(RuleError) {
            try ReadProof.check(
                reader: reader, signature: proof, chain: chain.id, nonce: nonce, method: request.method.rawValue,
                path: request.uri.string, membership: chain.membership)
        } catch {
            throw APIError(error)
        }
        guard redeem(nonce, now: now) else {
            throw APIError(.unauthorized, "stale_challenge", "the challenge is unknown, expired or already used: get a fresh one")
        }
        return reader
    }
}
