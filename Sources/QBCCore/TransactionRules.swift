import QBCCrypto

/// Context-free checks on one transaction: everything that needs no chain state.
///
/// Membership, duplicates and payload schemas need the chain and are checked by the node.
public enum TransactionRules {
    /// Checks sizes, content type and the timestamp window against `now`. Does not verify the signature.
    public static func checkStructure(
        _ tx: Transaction, limits: TransactionLimits, now: Timestamp
    ) throws(RuleError) {
        try checkShape(tx, limits: limits)
        let age = now.milliseconds(since: tx.timestamp)
        if age > 0, UInt64(age) > limits.maxAgeMilliseconds {
            throw RuleError(
                .timestampTooOld,
                "timestamp \(tx.timestamp) is \(age) ms old; the limit is \(limits.maxAgeMilliseconds) ms: sign it again")
        }
        // `magnitude`, not negation: a timestamp of 2^64 - 1 makes `age` Int64.min.
        if age < 0, age.magnitude > limits.maxFutureMilliseconds {
            throw RuleError(
                .timestampInFuture,
                "timestamp \(tx.timestamp) is \(age.magnitude) ms ahead of this node's clock; the limit is \(limits.maxFutureMilliseconds) ms")
        }
    }

    /// Size and content-type checks, which hold for a transaction at any time.
    public static func checkShape(_ tx: Transaction, limits: TransactionLimits) throws(RuleError) {
        if tx.payload.count > limits.maxPayloadBytes {
            throw RuleError(
                .payloadTooLarge, "payload is \(tx.payload.count) bytes; this chain allows \(limits.maxPayloadBytes)")
        }
        try checkContentType(tx.contentType)
    }

    /// A content type is 1 to 127 bytes of printable ASCII (space allowed for parameters).
    public static func checkContentType(_ contentType: String) throws(RuleError) {
        let utf8 = contentType.utf8
        guard !utf8.isEmpty, utf8.count <= TransactionLimits.maxContentTypeBytes,
            utf8.allSatisfy({ (0x20...0x7e).contains($0) })
        else {
            throw RuleError(
                .invalidContentType, "content type must be 1 to 127 printable ASCII characters, e.g. application/json")
        }
        // Media types are case-insensitive: QBC's own, which the rules treat specially, are taken
        // only as written, so no payload passes as one to a client without being checked as one.
        let base = String(contentType.prefix { $0 != ";" }.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()).lowercased()
        if reservedContentTypes.contains(base), contentType != base {
            throw RuleError(.invalidContentType, "QBC's own content types are written exactly, lowercase and without parameters: \(base)")
        }
    }

    /// The content types whose payloads the rules read: lock envelopes, membership changes, read keys.
    public static let reservedContentTypes: Set<String> = [Lock.contentType, MembershipChange.contentType, ReadKeyRegistration.contentType]

    /// Verifies the signature; the message tells the client how to sign.
    public static func checkSignature(_ tx: Transaction) throws(RuleError) {
        guard tx.hasValidSignature else {
            throw RuleError(
                .badSignature,
                "signature does not verify for sender \(tx.sender.hex) over the qbc/tx/v1 signing bytes: sign with `qbc tx sign` or `qbc tx submit` (documentation/protocol.md)")
        }
    }
}
