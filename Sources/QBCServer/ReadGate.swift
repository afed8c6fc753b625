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
    /// Anonymous proofs are checked at most half the cores at a time, fairly among callers.
    static let anonymousCheckSlots = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
    private let anonymousChecks = CheckQueue(slots: anonymousCheckSlots)

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

    /// Lets the request through to a readers-only chain only with a valid proof: a reader's
    /// (headers QBC-Reader, QBC-Nonce, QBC-Proof) or an anonymous one (QBC-Key-Set, QBC-Nonce,
    /// QBC-Anonymous-Proof). Other chains pass.
    @discardableResult
    func admit(_ request: Request, to chain: ChainService, now: Timestamp, source: String) async throws -> ReadAccess {
        guard chain.rules.readersOnly else { return .open }
        func header(_ name: String) -> String? { request.headers.first { $0.name.canonicalName == name.lowercased() }?.value }
        if let proofText = header(QBCHeader.anonymousProof) {
            return try await admitAnonymous(
                proofText, keySet: header(QBCHeader.keySet), nonce: header(QBCHeader.nonce), request, chain, now: now, source: source)
        }
        guard let readerText = header(QBCHeader.reader), let nonceText = header(QBCHeader.nonce),
            let proofText = header(QBCHeader.proof)
        else {
            throw APIError(.unauthorized, "proof_required", "chain \(chain.rules.name) is read by its readers only: GET its /challenge, then prove a reader's key (QBC-Reader, QBC-Nonce, QBC-Proof) or, without naming it, that you hold one of the chain's read keys (QBC-Key-Set, QBC-Nonce, QBC-Anonymous-Proof) (documentation/locks.md)")
        }
        guard let reader = try? PublicKey(hex: readerText), let nonce = try? Hex.decode(nonceText),
            let proof = try? Signature(hex: proofText)
        else { throw APIError(.unauthorized, "bad_signature", "the read proof headers are malformed") }
        try checkIssued(nonce, chain: chain, now: now)
        do throws(RuleError) {
            try ReadProof.check(
                reader: reader, signature: proof, chain: chain.id, nonce: nonce, method: request.method.rawValue,
                path: request.uri.string, membership: chain.membership)
        } catch {
            throw APIError(error)
        }
        try redeemOrRefuse(nonce, now: now)
        return .reader(reader)
    }

    /// An anonymous proof (locks.md, "Anonymous reads"): checked over the chain's key set now,
    /// the same work for every key; nothing about the reader is kept or logged.
    private func admitAnonymous(
        _ proofText: String, keySet: String?, nonce nonceText: String?, _ request: Request, _ chain: ChainService, now: Timestamp,
        source: String
    ) async throws -> ReadAccess {
        guard let keySet, let claimed = try? Hash(hex: keySet), let nonceText, let nonce = try? Hex.decode(nonceText),
            proofText.utf8.count <= Self.maxAnonymousProofText, let proof = try? Base64.decode(proofText, what: "proof")
        else {
            throw APIError(.unauthorized, "malformed_proof", "an anonymous read sends QBC-Key-Set (64 hex), QBC-Nonce (64 hex) and QBC-Anonymous-Proof (base64 of 64 bytes per key)")
        }
        try checkIssued(nonce, chain: chain, now: now)
        let set = chain.membership.readKeySet
        guard !set.keys.isEmpty, set.keys.count <= AnonymousRead.maxKeys else {
            throw APIError(.unprocessableContent, "anonymous_reads_unavailable", set.keys.isEmpty
                ? "chain \(chain.rules.name) has no registered read keys: readers register one with qbc read-key register"
                : "chain \(chain.rules.name) has \(set.keys.count) read keys; an anonymous proof covers at most \(AnonymousRead.maxKeys)")
        }
        guard claimed == set.hash else {
            throw APIError(.conflict, "stale_key_set", "the proof was made over another key set than chain \(chain.rules.name)'s now (\(set.hash.hex)): GET its /read-keys and prove again")
        }
        guard await anonymousChecks.enter(source: source) else {
            var busy = APIError(.serviceUnavailable, "busy", "this node checks \(Self.anonymousCheckSlots) anonymous proof(s) at a time and had no turn for this one within 2 s; retry in a moment")
            busy.headers[.retryAfter] = "1"
            throw busy
        }
        defer { anonymousChecks.leave() }
        do throws(AnonymousRead.Refusal) {
            try AnonymousRead.check(
                proof, claimed: claimed, set: set, chain: chain.id, nonce: nonce, method: request.method.rawValue, path: request.uri.string)
        } catch .staleKeySet {
            throw APIError(.conflict, "stale_key_set", "the proof was made over another key set than chain \(chain.rules.name)'s now (\(set.hash.hex)): GET its /read-keys and prove again")
        } catch .malformed {
            throw APIError(.unauthorized, "malformed_proof", "the anonymous proof must hold \(64 * set.keys.count) bytes (\(set.keys.count) keys) of canonical nonzero scalars")
        } catch {
            throw APIError(.unauthorized, "bad_proof", "the anonymous proof does not verify over this chain, challenge, request and key set")
        }
        try redeemOrRefuse(nonce, now: now)
        return .anonymous(keySet: set.hash)
    }

    /// Base64 of a proof over the largest key set allowed.
    static let maxAnonymousProofText = (64 * AnonymousRead.maxKeys + 2) / 3 * 4

    private func checkIssued(_ nonce: [UInt8], chain: ChainService, now: Timestamp) throws {
        guard isIssued(nonce, chain: chain.id, now: now) else {
            throw APIError(.unauthorized, "stale_challenge", "the challenge is unknown, expired or already used: get a fresh one")
        }
    }

    private func redeemOrRefuse(_ nonce: [UInt8], now: Timestamp) throws {
        guard redeem(nonce, now: now) else {
            throw APIError(.unauthorized, "stale_challenge", "the challenge is unknown, expired or already used: get a fresh one")
        }
    }
}

/// How a read of a chain was let in.
enum ReadAccess: Sendable {
    /// The chain is open to anyone.
    case open
    /// A reader proved its key.
    case reader(PublicKey)
    /// Some reader proved it holds one of the keys of this set.
    case anonymous(keySet: Hash)

    /// Why the access no longer holds on `chain`, or nil while it does.
    func lost(on chain: ChainService) -> String? {
        switch self {
        case .open: nil
        case .reader(let key):
            chain.membership.holds(key, .reader) ? nil : "\(key.hex) is no longer a reader of chain \(chain.rules.name)"
        case .anonymous(let set):
            chain.membership.readKeySet.hash == set ? nil : "the read key set of chain \(chain.rules.name) changed: prove again over the new set"
        }
    }
}
