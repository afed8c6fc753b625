import Foundation
public import QBCCore
import QBCCrypto

/// The JSON form of a signed transaction (documentation/protocol.md, "JSON form").
///
/// Binary fields are lowercase hex, except the payload, which is standard base64 of the
/// exact bytes that were signed. Unknown fields are refused.
public struct TransactionJSON: Codable, Sendable, Equatable {
    public var id: String?
    public var chain: String
    public var sender: String
    public var nonce: String
    public var timestamp: UInt64
    public var contentType: String
    public var payload: String
    public var signature: String?

    static let fields: Set<String> = [
        "id", "chain", "sender", "nonce", "timestamp", "contentType", "payload", "signature",
    ]

    public init(_ tx: Transaction) {
        id = tx.id.hex
        chain = tx.chain.hex
        sender = tx.sender.hex
        nonce = tx.body.nonce.hex
        timestamp = tx.timestamp.milliseconds
        contentType = tx.contentType
        payload = Base64.encode(tx.payload)
        signature = tx.signature.hex
    }

    enum CodingKeys: String, CodingKey {
        case id, chain, sender, nonce, timestamp, contentType, payload, signature
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(Self.fields, in: "transaction")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        chain = try c.decode(String.self, forKey: .chain)
        sender = try c.decode(String.self, forKey: .sender)
        nonce = try c.decode(String.self, forKey: .nonce)
        timestamp = try c.milliseconds(forKey: .timestamp)
        contentType = try c.decode(String.self, forKey: .contentType)
        payload = try c.decode(String.self, forKey: .payload)
        signature = try c.decodeIfPresent(String.self, forKey: .signature)
    }

    /// Maps to the core type, checking every field's format and the payload's size
    /// before decoding it. The signature is not verified here.
    public func transaction(maxPayloadBytes: Int) throws(WireError) -> Transaction {
        guard let signature else {
            throw .unsigned(
                "the transaction has no signature: sign it with `qbc tx sign` or `qbc tx submit` (documentation/protocol.md)")
        }
        // Base64 of n bytes is 4 * ceil(n / 3) characters: refuse longer text before decoding.
        guard payload.utf8.count <= (maxPayloadBytes + 2) / 3 * 4 else {
            throw .tooLarge("payload is larger than \(maxPayloadBytes) bytes")
        }
        let payloadBytes: [UInt8]
        do { payloadBytes = try Base64.decode(payload, what: "payload") } catch {
            throw .malformed("payload must be standard base64 (with padding)")
        }
        guard payloadBytes.count <= maxPayloadBytes else {
            throw .tooLarge("payload is \(payloadBytes.count) bytes; the limit is \(maxPayloadBytes)")
        }
        do throws(RuleError) { try TransactionRules.checkContentType(contentType) } catch {
            throw .malformed(error.message)
        }
        let body = Transaction.Body(
            chain: try Self.field(chain, as: ChainID.self, "chain"),
            sender: try Self.field(sender, as: PublicKey.self, "sender"),
            nonce: try Self.field(nonce, as: Nonce.self, "nonce"),
            timestamp: Timestamp(milliseconds: timestamp),
            contentType: contentType,
            payload: payloadBytes)
        let tx = Transaction(body: body, signature: try Self.field(signature, as: Signature.self, "signature"))
        if let id, id.lowercased() != tx.id.hex {
            throw .malformed("id \(id) does not match the transaction's content (expected \(tx.id.hex))")
        }
        return tx
    }

    static func field<T: FixedBytes>(_ text: String, as type: T.Type, _ name: String) throws(WireError) -> T {
        do { return try T(hex: text) } catch {
            throw .malformed("\(name) must be \(T.byteCount * 2) hex digits (\(T.byteCount) bytes)")
        }
    }
}

/// JSON encoding and decoding with QBC's conventions and errors.
public enum WireJSON {
    /// Encodes with sorted keys (stable output for humans and diffs).
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // Wire types hold only strings, integers, booleans, arrays and objects: encoding cannot fail.
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    /// Decodes `T`, turning every decoding failure into one readable `WireError`.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws(WireError) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch { throw describe(error, what: what) }
    }

    /// One readable `WireError` for a failure to decode `what`.
    public static func describe(_ error: any Error, what: String) -> WireError {
        switch error {
        case let error as WireError: error
        case DecodingError.keyNotFound(let key, _): .malformed("\(what) is missing the field \"\(key.stringValue)\"")
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            .malformed("\(what) field \"\(path(context))\" has the wrong type")
        case DecodingError.dataCorrupted(let context):
            path(context).isEmpty ? .malformed("\(what) is not valid JSON") : .malformed("\(what) field \"\(path(context))\" is invalid")
        default: .malformed("\(what) could not be read: \(error)")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// One element of a JSON array decoded on its own, so that a broken element gets its own verdict
/// and does not refuse the others (`POST /inject` with an array).
public struct EachDecoded<T: Decodable & Sendable>: Decodable, Sendable {
    public let value: Result<T, WireError>

    public init(from decoder: any Decoder) {
        do { value = .success(try T(from: decoder)) } catch { value = .failure(WireJSON.describe(error, what: "transaction")) }
    }
}
