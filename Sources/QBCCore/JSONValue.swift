import Foundation

/// A parsed JSON document, for payload rules. Numbers are doubles, as JSON Schema compares them.
///
/// Foundation is imported here only to parse: `JSONDecoder` is deterministic and needs no
/// clock, disk or network, so the core stays pure (documentation/decisions.md, D25).
public indirect enum JSONValue: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? c.decode(Double.self) {
            self = .number(value)
        } else if let value = try? c.decode(String.self) {
            self = .string(value)
        } else if let value = try? c.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// Parses UTF-8 JSON text (any value at the top level). Nil when it is not JSON.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// True when `bytes` are JSON text (any value at the top level). Cheaper than `parse`: it
    /// builds no Swift values, for payloads that need only to be JSON.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        PlainJSON.isPlainlyValid(bytes) || (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil
    }

    /// The JSON Schema type name of this value ("integer" is checked separately).
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
