import QBCCore
import QBCCrypto

/// `payload-schema`: a chain's payload schema and a payload checked against it. The input is the
/// schema's JSON text, a zero byte (never valid inside JSON text), then the payload's JSON.
enum PayloadSchemaFuzz {
    /// A `pattern` runs on Swift's backtracking regex engine, so a pathological pattern such as
    /// `(a|a)*b` takes time exponential in the string's length (about 10 s for 24 characters on
    /// the fuzzing machine). When the schema has a pattern anywhere, payloads with a string longer
    /// than this are not checked, so that such a pattern is not reported as a hang over and over;
    /// the finding itself is recorded in documentation/fuzzing.md, "payload-schema".
    static let maxPatternSubjectScalars = 12

    @Sendable static func run(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let schemaText = Array(parts[0])
        let payload = parts.count > 1 ? Array(parts[1]) : []

        guard let rules = try? PayloadRules(contentType: "application/json", schemaText: schemaText) else { return }
        let schemaValue = JSONValue.parse(schemaText)
        let payloadValue = JSONValue.parse(payload)
        // Keys are compared after JSON unescaping: "patt\u0065rn" is a pattern too.
        if let schemaValue, hasPattern(schemaValue), let payloadValue, longestString(payloadValue) > maxPatternSubjectScalars {
            return
        }
        let body = Transaction.Body(
            chain: f.powBang.id, sender: f.writer.publicKey, nonce: Nonce(unchecked: [UInt8](repeating: 0, count: Nonce.byteCount)),
            timestamp: FuzzFixtures.now, contentType: "application/json", payload: payload)
        try? rules.check(Transaction(body: body, signature: Signature(unchecked: [UInt8](repeating: 0, count: Signature.byteCount))))
        if let schema = schemaValue.flatMap({ try? PayloadSchema($0) }), let payloadValue {
            _ = schema.violation(in: payloadValue)
        }
    }

    private static func hasPattern(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let fields): fields["pattern"] != nil || fields.values.contains(where: hasPattern)
        case .array(let elements): elements.contains(where: hasPattern)
        default: false
        }
    }

    /// The longest string value, in Unicode scalars (what a pattern walks).
    private static func longestString(_ value: JSONValue) -> Int {
        switch value {
        case .string(let text): text.unicodeScalars.count
        case .object(let fields): fields.values.map(longestString).max() ?? 0
        case .array(let elements): elements.map(longestString).max() ?? 0
        default: 0
        }
    }
}
