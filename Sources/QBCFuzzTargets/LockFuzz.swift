import QBCCore
import QBCCrypto

/// `lock-envelope`: a lock envelope as a whole payload (`application/vnd.qbc.lock`) and as a
/// locked field (`"qbc-lock:v1:" + base64`) on a chain whose payload rules lock fields.
enum LockFuzz {
    @Sendable static func run(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        let chain = f.powBang.id
        let sender = f.writer.publicKey
        _ = try? Lock(decoding: bytes)
        _ = try? Lock(decoding: bytes, limit: 64)
        try? Lock.checkEnvelope(bytes, chain: chain, sender: sender)

        let whole = transaction(chain: chain, sender: sender, contentType: Lock.contentType, payload: bytes)
        try? PayloadRules.none.check(whole)
        try? f.lockedRules.check(whole)

        let field = #"{"pin":"\#(PayloadRules.lockedValuePrefix)\#(Base64.encode(bytes))","note":"x"}"#
        try? f.lockedRules.check(transaction(chain: chain, sender: sender, contentType: "application/json", payload: Array(field.utf8)))
    }

    private static func transaction(chain: ChainID, sender: PublicKey, contentType: String, payload: [UInt8]) -> Transaction {
        let body = Transaction.Body(
            chain: chain, sender: sender, nonce: Nonce(unchecked: [UInt8](repeating: 0, count: Nonce.byteCount)),
            timestamp: FuzzFixtures.now, contentType: contentType, payload: payload)
        return Transaction(body: body, signature: Signature(unchecked: [UInt8](repeating: 0, count: Signature.byteCount)))
    }
}
