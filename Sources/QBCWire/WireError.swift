/// Malformed or oversized input at the JSON boundary. Kept apart from rule errors:
/// these mean "cannot be read", not "breaks a chain rule".
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input is not the documented JSON shape.
    case malformed(String)
    /// The input is larger than the limit for its kind.
    case tooLarge(String)
    /// A transaction without a signature.
    case unsigned(String)

    public var description: String {
        switch self {
        case .malformed(let message), .tooLarge(let message), .unsigned(let message): message
        }
    }
}

/// A coding key for any string, used to list and reject unknown fields.
struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws when the JSON object has a field not in `allowed`.
    func rejectUnknownKeys(_ allowed: Set<String>, in what: String) throws {
        let container = try container(keyedBy: AnyKey.self)
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !allowed.contains($0) }) {
            throw WireError.malformed("unknown field \"\(unknown)\" in \(what)")
        }
    }
}
