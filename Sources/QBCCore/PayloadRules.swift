import QBCCrypto

/// What a chain accepts as payload: an optional required content type and an optional JSON
/// schema (documentation/chains.md, "Payload rules"). Checked on admission and again on receipt.
public struct PayloadRules: Sendable, Hashable {
    /// When set, every transaction must carry exactly this content type.
    public let contentType: String?
    /// The schema's JSON text exactly as the Bang carries it (nil: no schema).
    public let schemaText: [UInt8]?
    let schema: PayloadSchema?
    /// Top-level JSON fields that must never travel in plaintext: each, when present, is a locked
    /// value (`"qbc-lock:v1:" + base64(envelope)`, documentation/locks.md).
    public let lockedFields: [String]

    public static let maxSchemaBytes = 64 * 1024
    public static let none = PayloadRules()

    private init() {
        contentType = nil
        schemaText = nil
        schema = nil
        lockedFields = []
    }

    /// Reads the rules; a schema outside the subset or a bad content type is refused.
    public init(contentType: String?, schemaText: [UInt8]?, lockedFields: [String] = []) throws(RuleError) {
        if let contentType { try TransactionRules.checkContentType(contentType) }
        guard lockedFields.count <= 64, Set(lockedFields).count == lockedFields.count,
            lockedFields.allSatisfy({ (1...255).contains($0.utf8.count) })
        else { throw RuleError(.invalidBang, "locked fields are at most 64 distinct names of 1 to 255 bytes") }
        if !lockedFields.isEmpty, let contentType, !Self.isJSON(contentType) {
            throw RuleError(.invalidBang, "locked fields need a JSON content type, not \(contentType)")
        }
        self.lockedFields = lockedFields
        self.contentType = contentType
        guard let schemaText else {
            self.schemaText = nil
            schema = nil
            return
        }
        guard schemaText.count <= Self.maxSchemaBytes else {
            throw RuleError(.invalidBang, "the payload schema is larger than \(Self.maxSchemaBytes) bytes")
        }
        guard let value = JSONValue.parse(schemaText) else { throw RuleError(.invalidBang, "the payload schema is not JSON") }
        do { schema = try PayloadSchema(value) } catch { throw RuleError(.invalidBang, "payload schema: \(error.message)") }
        if let contentType, !Self.isJSON(contentType) {
            throw RuleError(.invalidBang, "a payload schema needs a JSON content type, not \(contentType)")
        }
        self.schemaText = schemaText
    }

    public static func == (lhs: PayloadRules, rhs: PayloadRules) -> Bool {
        lhs.contentType == rhs.contentType && lhs.schemaText == rhs.schemaText && lhs.lockedFields == rhs.lockedFields
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(contentType)
        hasher.combine(schemaText)
        hasher.combine(lockedFields)
    }

    static func isJSON(_ contentType: String) -> Bool {
        let lower = contentType.lowercased()
        return lower.hasPrefix("application/json") || lower.hasPrefix("application/") && lower.contains("+json")
    }

    /// Checks one transaction's payload. Membership changes have their own rules (`Governance`);
    /// read key registrations only their own shape and proof.
    public func check(_ tx: Transaction) throws(RuleError) {
        guard tx.contentType != MembershipChange.contentType else { return }
        // A read key registration is checked whole here: it needs nothing but itself.
        guard tx.contentType != ReadKeyRegistration.contentType else {
            _ = try ReadKeyRegistration.checked(tx)
            return
        }
        if tx.contentType == Lock.contentType {
            // A whole locked payload: the node sees only the envelope, so it checks its shape and binding.
            guard lockedFields.isEmpty else {
                throw RuleError(.invalidPayload, "this chain locks fields, not whole payloads: send JSON with the fields \(lockedFields) locked")
            }
            guard contentType == nil, schema == nil else {
                throw RuleError(.invalidPayload, "this chain checks its payloads' content, so it takes no wholly locked payloads; lock fields instead")
            }
            try Lock.checkEnvelope(tx.payload, chain: tx.chain, sender: tx.sender)
            return
        }
        if let contentType, tx.contentType != contentType {
            throw RuleError(.invalidPayload, "this chain takes only \(contentType) payloads, not \(tx.contentType)")
        }
        guard schema != nil || !lockedFields.isEmpty else {
            if Self.isJSON(tx.contentType), !JSONValue.isValid(tx.payload) {
                throw RuleError(.invalidPayload, "content type is \(tx.contentType) but the payload is not valid JSON")
            }
            return
        }
        guard let value = JSONValue.parse(tx.payload) else {
            throw RuleError(.invalidPayload, "content type is \(tx.contentType) but the payload is not valid JSON")
        }
        if !lockedFields.isEmpty { try checkLockedFields(value, of: tx) }
        if let schema, let violation = schema.violation(in: value) {
            throw RuleError(.invalidPayload, "the payload breaks the chain's schema: \(violation)")
        }
    }

    /// The prefix of a locked field's value; the rest is the envelope in standard base64.
    public static let lockedValuePrefix = "qbc-lock:v1:"

    private func checkLockedFields(_ value: JSONValue, of tx: Transaction) throws(RuleError) {
        guard case .object(let fields) = value else {
            throw RuleError(.invalidPayload, "this chain locks fields of JSON objects; the payload is not an object")
        }
        for name in lockedFields {
            guard let field = fields[name] else { continue }
            guard case .string(let text) = field, text.hasPrefix(Self.lockedValuePrefix),
                let bytes = try? Base64.decode(String(text.dropFirst(Self.lockedValuePrefix.count)))
            else {
                throw RuleError(.invalidPayload, "field '\(name)' must be locked on this chain (qbc tx submit locks it for you)")
            }
            try Lock.checkEnvelope(bytes, chain: tx.chain, sender: tx.sender)
        }
    }
}
