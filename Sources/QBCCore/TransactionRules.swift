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
        if let reserved = disguisedReservedType(contentType) {
            throw RuleError(.invalidContentType, "QBC's own content types are written exactly, lowercase and without parameters: \(reserved)")
        }
    }

    private static let reservedPrefix = Array("application/vnd.qbc.".utf8)

    /// The QBC content type `contentType` names in another case or with parameters, or nil. Runs
    /// for every transaction: the common case reads a few bytes and allocates nothing (a
    /// `Character`-wise version of this cost a tenth of a node's CPU under load).
    static func disguisedReservedType(_ contentType: String) -> String? {
        // Printable ASCII only (checked above), where `| 0x20` lowercases letters and keeps `/` and `.`.
        var bytes = contentType.utf8.drop { $0 == UInt8(ascii: " ") }.makeIterator()
        for expected in reservedPrefix {
            guard let byte = bytes.next(), byte | 0x20 == expected else { return nil }
        }
        let base = String(decoding: contentType.utf8.prefix { $0 != UInt8(ascii: ";") }.map { $0 | (($0 >= 0x41 && $0 <= 0x5A) ? 0x20 : 0) }, as: UTF8.self)
        let trimmed = String(base.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        return reservedContentTypes.contains(trimmed) && contentType != trimmed ? trimmed : nil
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
