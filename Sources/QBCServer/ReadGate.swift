import Foundation
import Hummingbird
import QBCClient
import QBCCore
import QBCCrypto
import QBCNode
import QBCWire
import Synchronization

/// Single-use challenges for readers-only chains: issued on request, valid for a minute, consumed
/// by the first proof that names them, so a proof can never be replayed. Bounded in number.
final class ReadGate: Sendable {
    static let lifetimeMilliseconds: UInt64 = 60_000
    static let capacity = 10_000
    private let issued = Mutex<[[UInt8]: (chain: ChainID, expires: Timestamp)]>([:])

    /// A fresh nonce for `chain`; the oldest expired ones make room when the gate is full.
    func challenge(chain: ChainID, now: Timestamp) -> (nonce: [UInt8], expires: Timestamp)? {
        let nonce = SecureRandom.bytes(ReadProof.nonceBytes)
        let expires = Timestamp(milliseconds: now.milliseconds + Self.lifetimeMilliseconds)
        return issued.withLock { table in
            if table.count >= Self.capacity { table = table.filter { $0.value.expires > now } }
            guard table.count < Self.capacity else { return nil }
            table[nonce] = (chain, expires)
            return (nonce, expires)
        }
    }

    /// True once for a nonce this node issued for `chain` that has not expired.
    func consume(_ nonce: [UInt8], chain: ChainID, now: Timestamp) -> Bool {
        issued.withLock { table in
            guard let entry = table.removeValue(forKey: nonce) else { return false }
            return entry.chain == chain && now < entry.expires
        }
    }

    /// Lets the request through to a readers-only chain only with a valid proof (headers
    /// QBC-Reader, QBC-Nonce, QBC-Proof); other chains pass.
    func admit(_ request: Request, to chain: ChainService, now: Timestamp) throws {
        guard chain.rules.readersOnly else { return }
        func header(_ name: String) -> String? { request.headers.first { $0.name.canonicalName == name.lowercased() }?.value }
        guard let readerText = header(QBCHeader.reader), let nonceText = header(QBCHeader.nonce),
            let proofText = header(QBCHeader.proof)
        else {
            throw APIError(.unauthorized, "proof_required", "chain \(chain.rules.name) is read by its readers only: GET its /challenge, sign qbc/read-proof/v1 and send QBC-Reader, QBC-Nonce, QBC-Proof (documentation/locks.md)")
        }
        guard let reader = try? PublicKey(hex: readerText), let nonce = try? Hex.decode(nonceText),
            let proof = try? Signature(hex: proofText)
        else { throw APIError(.unauthorized, "bad_signature", "the read proof headers are malformed") }
        guard consume(nonce, chain: chain.id, now: now) else {
            throw APIError(.unauthorized, "stale_challenge", "the challenge is unknown, expired or already used: get a fresh one")
        }
        do throws(RuleError) {
            try ReadProof.check(
                reader: reader, signature: proof, chain: chain.id, nonce: nonce, method: request.method.rawValue,
                path: request.uri.string, membership: chain.membership)
        } catch {
            throw APIError(error)
        }
    }
}
