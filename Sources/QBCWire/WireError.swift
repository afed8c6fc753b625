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

extension KeyedDecodingContainer {
    /// A timestamp in milliseconds since the epoch. A negative, fractional or too large number gets
    /// this message: Foundation reports those as "not valid JSON", with no field named.
    func milliseconds(forKey key: Key) throws -> UInt64 {
        let message = "\(key.stringValue) must be a whole number of milliseconds since the epoch, from 0 to 2^63 − 1"
        let value: Int64
        do {
            value = try decode(Int64.self, forKey: key)
        } catch let error as DecodingError {
            // Missing or of the wrong type: the general messages say so.
            guard case .dataCorrupted = error else { throw error }
            throw WireError.malformed(message)
        } catch {
            // Foundation's own number error ("not representable"), which it reports as invalid JSON.
            throw WireError.malformed(message)
        }
        guard value >= 0 else { throw WireError.malformed("\(message), got \(value)") }
        return UInt64(value)
    }
}
