import Foundation
public import QBCCore

/// A chain spec file (documentation/chains.md): the `chain` section of a config file, or a file
/// of its own for `qbc bang` and `qbc fork`. Every field is optional and applies on top of a base
/// spec; unknown fields are errors.
struct ChainSpecFile: Decodable {
    struct Member: Decodable {
        var key: String
        var roles: [String]
    }

    struct Limits: Decodable {
        var maxPayloadBytes: Int?
        var maxTransactionAgeMilliseconds: UInt64?
        var maxTransactionFutureMilliseconds: UInt64?
        var maxTransactionsPerQuant: Int?
        var maxQuantBytes: Int?
    }


    struct Payload: Decodable {
        var contentType: String?
        var lockedFields: [String]?
        /// Read as text separately (`schemaText`); here only its presence matters.
        var schema: JSONValue?
    }

    struct ChainLeap: Decodable {
        var intervalMilliseconds: UInt32?
        var threshold: UInt32?
    }

    /// `engine` and the engine's own numeric parameters (`ConsensusEngines.parameterNames`).
    struct Consensus: Decodable {
        var engine: String
        var parameters: [String: UInt64]

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            engine = try c.decode(String.self, forKey: AnyKey("engine"))
            var parameters = [String: UInt64]()
            for key in c.allKeys where key.stringValue != "engine" { parameters[key.stringValue] = try c.decode(UInt64.self, forKey: key) }
            self.parameters = parameters
        }

        struct AnyKey: CodingKey {
            let stringValue: String
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
    }

    var name: String?
    var consensus: Consensus?
    var members: [Member]?
    var limits: Limits?
    var bangCreatorKey: String?
    var bangTimestamp: UInt64?
    var payload: Payload?
    var adminQuorum: UInt8?
    var leap: ChainLeap?
    /// "open" (default) or "readers".
    var readAccess: String?

    static let knownFields: [String: Set<String>] = [
        "": ["name", "consensus", "members", "limits", "bangCreatorKey", "bangTimestamp", "payload", "adminQuorum", "leap", "readAccess"],
        "payload": ["contentType", "schema", "lockedFields"],
        "leap": ["intervalMilliseconds", "threshold"],
        "consensus": ConsensusEngines.parameterNames.union(["engine"]),
        "members": ["key", "roles"],
        "limits": ["maxPayloadBytes", "maxTransactionAgeMilliseconds", "maxTransactionFutureMilliseconds", "maxTransactionsPerQuant",
                   "maxQuantBytes"],
    ]

    /// Applies a chain spec object (from `path`, at `section` in it: "chain" in a config file, ""
    /// in a spec file of its own) on top of `spec`.
    static func apply(_ object: [String: Any], section: String, path: String, to spec: inout ChainSpec) throws(SettingsError) {
        let prefix = section.isEmpty ? "" : section + "."
        try ConfigFields.check(object, known: knownFields, path: path, prefix: prefix)
        let file: ChainSpecFile
        do {
            file = try JSONDecoder().decode(ChainSpecFile.self, from: try JSONSerialization.data(withJSONObject: object))
        } catch let error as DecodingError {
            throw SettingsError("config file \(path): \(ConfigFields.describe(error, prefix: prefix))")
        } catch {
            throw SettingsError("config file \(path): \(error)")
        }
        try file.apply(to: &spec, prefix: prefix)
        if let schema = (object["payload"] as? [String: Any])?["schema"] {
            // Sorted keys, so the same schema gives the same Bang.
            guard let text = try? JSONSerialization.data(withJSONObject: schema, options: [.sortedKeys, .fragmentsAllowed]) else {
                throw SettingsError("config file \(path): \(prefix)payload.schema cannot be serialised")
            }
            spec.schema = Array(text)
        }
    }

    func apply(to s: inout ChainSpec, prefix: String) throws(SettingsError) {
        let c = self
        if let v = c.name { s.name = v }
        if let v = c.consensus {
            guard let engine = ConsensusEngines.named(v.engine) else {
                let known = ConsensusEngines.registered.map { "\"\($0.name)\"" }.joined(separator: ", ")
                throw SettingsError("\(prefix)consensus.engine \"\(v.engine)\" is not supported; use one of \(known)")
            }
            if let unknown = v.parameters.keys.sorted().first(where: { !engine.parameterNames.contains($0) }) {
                throw SettingsError("\(prefix)consensus.\(unknown) is not a parameter of engine \"\(v.engine)\" (\(engine.parameterNames.joined(separator: ", ")))")
            }
            // A spec that names an engine starts from that engine's defaults.
            if v.engine != s.engine { s.consensus = [:] }
            s.engine = v.engine
            s.consensus.merge(v.parameters) { _, new in new }
            do throws(RuleError) { _ = try engine.init(parameters: s.consensus) } catch {
                throw SettingsError("\(prefix)consensus: \(error.message)")
            }
        }
        if let v = c.members { s.members = v.map { ($0.key, $0.roles) } }
        if let v = c.bangCreatorKey { s.creatorKey = v }
        if let v = c.bangTimestamp { s.timestamp = v }
        if let v = c.payload?.contentType { s.contentType = v }
        if let v = c.adminQuorum { s.adminQuorum = v }
        if let v = c.payload?.lockedFields { s.lockedFields = v }
        if let v = c.readAccess {
            guard v == "open" || v == "readers" else { throw SettingsError("\(prefix)readAccess must be \"open\" or \"readers\"") }
            s.readersOnly = v == "readers"
        }
        if let v = c.leap?.intervalMilliseconds { s.leap.intervalMilliseconds = v }
        if let v = c.leap?.threshold { s.leap.threshold = v }
        if let l = c.limits {
            if let v = l.maxPayloadBytes { s.transactionLimits.maxPayloadBytes = v }
            if let v = l.maxTransactionAgeMilliseconds { s.transactionLimits.maxAgeMilliseconds = v }
            if let v = l.maxTransactionFutureMilliseconds { s.transactionLimits.maxFutureMilliseconds = v }
            if let v = l.maxTransactionsPerQuant { s.quantLimits.maxTransactions = v }
            if let v = l.maxQuantBytes { s.quantLimits.maxBytes = v }
        }
    }
}
