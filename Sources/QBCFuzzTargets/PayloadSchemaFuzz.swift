import QBCCore
import QBCCrypto

/// `payload-schema`: a chain's payload schema and a payload checked against it. The input is the
/// schema's JSON text, a zero byte (never valid inside JSON text), then the payload's JSON.
/// Patterns run on QBC's linear-time matcher (D55), so no string is too long to check: an
/// exponential pattern is reported as a hang (`-timeout`), as it was before that matcher.
enum PayloadSchemaFuzz {
    @Sendable static func run(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let schemaText = Array(parts[0])
        let payload = parts.count > 1 ? Array(parts[1]) : []

        guard let rules = try? PayloadRules(contentType: "application/json", schemaText: schemaText) else { return }
        let body = Transaction.Body(
            chain: f.powBang.id, sender: f.writer.publicKey, nonce: Nonce(unchecked: [UInt8](repeating: 0, count: Nonce.byteCount)),
            timestamp: FuzzFixtures.now, contentType: "application/json", payload: payload)
        try? rules.check(Transaction(body: body, signature: Signature(unchecked: [UInt8](repeating: 0, count: Signature.byteCount))))
        if let schema = JSONValue.parse(schemaText).flatMap({ try? PayloadSchema($0) }), let payloadValue = JSONValue.parse(payload) {
            _ = schema.violation(in: payloadValue)
        }
    }
}
