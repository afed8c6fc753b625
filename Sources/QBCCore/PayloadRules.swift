/// What a chain accepts as payload: an optional required content type and an optional JSON
/// schema (documentation/chains.md, "Payload rules"). Checked on admission and again on receipt.
public struct PayloadRules: Sendable, Hashable {
    /// When set, every transaction must carry exactly this content type.
    public let contentType: String?
    /// The schema's JSON text exactly as the Bang carries it (nil: no schema).
    public let schemaText: [UInt8]?
    let schema: PayloadSchema?

    public static let maxSchemaBytes = 64 * 1024
    public static let none = PayloadRules()

    private init() {
        contentType = nil
        schemaText = nil
        schema = nil
    }

    /// Reads the rules; a schema outside the subset or a bad content type is refused.
    public init(contentType: String?, schemaText: [UInt8]?) throws(RuleError) {
        if let contentType { try TransactionRules.checkContentType(contentType) }
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
        lhs.contentType == rhs.contentType && lhs.schemaText == rhs.schemaText
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(contentType)
        hasher.combine(schemaText)
    }

    static func isJSON(_ contentType: String) -> Bool {
        let lower = contentType.lowercased()
        return lower.hasPrefix("application/json") || lower.hasPrefix("application/") && lower.contains("+json")
    }

    /// Checks one transaction's payload. Membership changes have their own rules (`Governance`).
    public func check(_ tx: Transaction) throws(RuleError) {
        guard tx.contentType != MembershipChange.contentType else { return }
        if let contentType, tx.contentType != contentType {
            throw RuleError(.invalidPayload, "this chain takes only \(contentType) payloads, not \(tx.contentType)")
        }
        guard schema != nil || Self.isJSON(tx.contentType) else { return }
        guard let value = JSONValue.parse(tx.payload) else {
            throw RuleError(.invalidPayload, "content type is \(tx.contentType) but the payload is not valid JSON")
        }
        if let schema, let violation = schema.violation(in: value) {
            throw RuleError(.invalidPayload, "the payload breaks the chain's schema: \(violation)")
        }
    }
}
