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

    init(id: String?, chain: String, sender: String, nonce: String, timestamp: UInt64, contentType: String, payload: String, signature: String?) {
        self.id = id
        self.chain = chain
        self.sender = sender
        self.nonce = nonce
        self.timestamp = timestamp
        self.contentType = contentType
        self.payload = payload
        self.signature = signature
    }

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

    /// Chains and senders decoded from their hex recently: a batch names a few many times over,
    /// and decoding each again was an allocation and 64 hex digits per transaction (issue 18).
    public struct RecentFields: Sendable {
        var chains: RecentValues<(hex: String, value: ChainID)>
        var senders: RecentValues<(hex: String, value: PublicKey)>

        /// The last 8 of each.
        public init() { self.init(capacity: 8) }
        private init(capacity: Int) {
            chains = RecentValues(capacity: capacity)
            senders = RecentValues(capacity: capacity)
        }

        /// Shares and remembers nothing: for one transaction mapped alone.
        public static var none: RecentFields { RecentFields(capacity: 0) }

        static func value<T: FixedBytes>(_ text: String, among recent: inout RecentValues<(hex: String, value: T)>, _ name: String)
            throws(WireError) -> T
        {
            // Byte for byte: String's == would also match canonically equivalent text.
            if let known = recent.first(where: { $0.hex.utf8.elementsEqual(text.utf8) }) { return known.value }
            let value = try TransactionJSON.field(text, as: T.self, name)
            recent.remember((text, value))
            return value
        }
    }

    /// Maps to the core type, checking every field's format and the payload's size
    /// before decoding it. The signature is not verified here.
    public func transaction(maxPayloadBytes: Int) throws(WireError) -> Transaction {
        var fields = RecentFields.none
        return try transaction(maxPayloadBytes: maxPayloadBytes, sharing: &fields)
    }

    /// The same, sharing the chain and sender with transactions mapped before with `fields`.
    public func transaction(maxPayloadBytes: Int, sharing fields: inout RecentFields) throws(WireError) -> Transaction {
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
            chain: try RecentFields.value(chain, among: &fields.chains, "chain"),
            sender: try RecentFields.value(sender, among: &fields.senders, "sender"),
            nonce: try Self.field(nonce, as: Nonce.self, "nonce"),
            timestamp: Timestamp(milliseconds: timestamp),
            contentType: contentType,
            payload: payloadBytes)
        let tx = Transaction(body: body, signature: try Self.field(signature, as: Signature.self, "signature"))
        if let id, (try? TransactionID(hex: id)) != tx.id {
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

    /// One readable `WireError` for a failure to decode `what`; `index`: the failure was in that
    /// element of an array decoded one element at a time (named as decoding the whole array would).
    public static func describe(_ error: any Error, what: String, at index: Int? = nil) -> WireError {
        switch error {
        case let error as WireError: error
        case DecodingError.keyNotFound(let key, _): .malformed("\(what) is missing the field \"\(key.stringValue)\"")
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            .malformed("\(what) field \"\(path(context, at: index))\" has the wrong type")
        case DecodingError.dataCorrupted(let context):
            path(context, at: index).isEmpty
                ? .malformed("\(what) is not valid JSON") : .malformed("\(what) field \"\(path(context, at: index))\" is invalid")
        default: .malformed("\(what) could not be read: \(error)")
        }
    }

    private static func path(_ context: DecodingError.Context, at index: Int?) -> String {
        ((index.map { ["[\($0)]"] } ?? []) + context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }).joined(separator: ".")
    }
}

/// One element of a JSON array decoded on its own, so that a broken element gets its own verdict
/// and does not refuse the others (`POST /inject` with an array).
public struct EachDecoded<T: Decodable & Sendable>: Decodable, Sendable {
    public let value: Result<T, WireError>

    init(_ value: Result<T, WireError>) { self.value = value }

    public init(from decoder: any Decoder) {
        do { value = .success(try T(from: decoder)) } catch { value = .failure(WireJSON.describe(error, what: "transaction")) }
    }
}

extension TransactionJSON {
    /// The values a transaction's JSON can hold: the object, and a key and a value for each
    /// field, with room to spare. A large element with more is refused without Foundation parsing it.
    public static let maxValues = 64

    /// The transactions of a JSON array as `WireJSON.decode` would give them, read by `PlainJSON`
    /// when every element is a plain object of the known fields (the form every client sends), else
    /// one element at a time by Foundation, whose errors and leniencies stay the reference. An array
    /// of more than `maxCount` elements is refused (`tooLarge`) before its elements are read.
    public static func list(from bytes: [UInt8], maxCount: Int) throws(WireError) -> [EachDecoded<TransactionJSON>] {
        if let plain = plainList(bytes, maxCount: maxCount) { return plain.map { EachDecoded(.success($0)) } }
        return try elementwise(bytes, maxCount: maxCount)
    }

    /// The array's elements, each judged alone (D75): Foundation parses one element at a time, so
    /// what it holds at once is one element's values: at most 64 KiB's worth, or `maxValues`.
    static func elementwise(_ bytes: [UInt8], maxCount: Int) throws(WireError) -> [EachDecoded<TransactionJSON>] {
        let elements: [JSONShape.Element]
        switch JSONShape.arrayElements(bytes, maxCount: maxCount) {
        case .elements(let found): elements = found
        case .tooMany: throw WireError.tooLarge("at most \(maxCount) transactions per request")
        case .unreadable:
            guard bytes.count <= JSONShape.wholeBytes else { throw WireError.malformed("transaction list is not valid JSON") }
            let items = try WireJSON.decode([EachDecoded<TransactionJSON>].self, from: bytes, what: "transaction list")
            guard items.count <= maxCount else { throw WireError.tooLarge("at most \(maxCount) transactions per request") }
            return items
        }
        var items = [EachDecoded<TransactionJSON>]()
        items.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            // A small element goes to Foundation even with many values: what it holds while parsing
            // one is bounded by its size, and its verdict stays the reference.
            guard element.values <= maxValues || element.range.count <= JSONShape.wholeBytes else {
                items.append(EachDecoded(.failure(.malformed(
                    "transaction [\(index)] holds \(element.values) JSON values; a transaction holds at most \(maxValues)"))))
                continue
            }
            let slice = Array(bytes[element.range])
            var reader = PlainJSON(slice)
            if let plain = plainObject(&reader), reader.isAtEnd {
                items.append(EachDecoded(.success(plain)))
                continue
            }
            do {
                items.append(EachDecoded(.success(try JSONDecoder().decode(TransactionJSON.self, from: Data(slice)))))
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                // Not JSON: as when Foundation parses the whole array, the whole body is refused.
                throw WireError.malformed("transaction list is not valid JSON")
            } catch {
                items.append(EachDecoded(.failure(WireJSON.describe(error, what: "transaction", at: index))))
            }
        }
        return items
    }

    /// One transaction, as `WireJSON.decode` would give it. A large body is first counted: more
    /// values than a transaction holds are refused before Foundation parses them (D75).
    public static func one(from bytes: [UInt8]) throws(WireError) -> TransactionJSON {
        var reader = PlainJSON(bytes)
        if let plain = plainObject(&reader), reader.isAtEnd { return plain }
        return try WireJSON.decode(TransactionJSON.self, from: bytes, what: "transaction", maxValues: maxValues) { values in
            .malformed("the transaction holds \(values) JSON values; a transaction holds at most \(maxValues)")
        }
    }

    /// The plain reading alone: nil when some part is not plain (then Foundation decides).
    public static func plainList(_ bytes: [UInt8], maxCount: Int = .max) -> [TransactionJSON]? {
        var reader = PlainJSON(bytes)
        guard reader.take(UInt8(ascii: "[")) else { return nil }
        var out = [TransactionJSON]()
        if !reader.take(UInt8(ascii: "]")) {
            repeat {
                // Past the count, the linear pass refuses the array without reading the rest.
                guard out.count < maxCount, let tx = plainObject(&reader) else { return nil }
                out.append(tx)
            } while reader.take(UInt8(ascii: ","))
            guard reader.take(UInt8(ascii: "]")) else { return nil }
        }
        return reader.isAtEnd ? out : nil
    }

    /// An object of the known fields, each once, with plain strings and a plain timestamp; nil
    /// for anything else (missing, unknown, repeated or null fields included).
    private static func plainObject(_ reader: inout PlainJSON) -> TransactionJSON? {
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        var strings = [String: String](minimumCapacity: 8)
        var timestamp: Int64?
        repeat {
            guard let key = reader.plainString(), reader.take(UInt8(ascii: ":")) else { return nil }
            if key == "timestamp" {
                guard timestamp == nil, let value = reader.plainInteger() else { return nil }
                timestamp = value
            } else {
                guard fields.contains(key), strings[key] == nil, let value = reader.plainString() else { return nil }
                strings[key] = value
            }
        } while reader.take(UInt8(ascii: ","))
        guard reader.take(UInt8(ascii: "}")), let timestamp, let chain = strings["chain"], let sender = strings["sender"],
            let nonce = strings["nonce"], let contentType = strings["contentType"], let payload = strings["payload"]
        else { return nil }
        return TransactionJSON(
            id: strings["id"], chain: chain, sender: sender, nonce: nonce, timestamp: UInt64(timestamp), contentType: contentType,
            payload: payload, signature: strings["signature"])
    }
}
