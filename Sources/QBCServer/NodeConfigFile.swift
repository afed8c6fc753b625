import Foundation
import QBCCore
import QBCWire

/// The JSON config file (`config/*.json`): every field optional; unknown fields are errors.
struct NodeConfigFile: Decodable {
    struct Node: Decodable {
        var host: String?
        var port: Int?
        var dataDirectory: String?
        var key: String?
        var mempoolCapacity: Int?
        var verifierTasks: Int?
        var logLevel: String?
    }

    struct Leap: Decodable {
        var intervalMilliseconds: Int?
        var threshold: Int?
        var allowLoopback: Bool?
    }

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

    struct Chain: Decodable {
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

    struct Network: Decodable {
        var peers: [String]?
        var advertise: String?
    }

    var node: Node?
    var leap: Leap?
    var chain: Chain?
    var network: Network?

    /// Reads `path` and applies it on top of `settings`.
    static func apply(path: String, to settings: inout NodeSettings) throws(SettingsError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw SettingsError("cannot read config file \(path)") }
        try apply(data, path: path, to: &settings)
    }

    /// Reads a chain spec file (a config file's `chain` section on its own) onto `settings.chain`.
    static func apply(chainSpec path: String, to settings: inout NodeSettings) throws(SettingsError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw SettingsError("cannot read chain spec \(path)") }
        guard let object = try? JSONSerialization.jsonObject(with: data), object is [String: Any],
            let wrapped = try? JSONSerialization.data(withJSONObject: ["chain": object])
        else { throw SettingsError("chain spec \(path): not a JSON object") }
        try apply(wrapped, path: path, to: &settings)
    }

    private static func apply(_ data: Data, path: String, to settings: inout NodeSettings) throws(SettingsError) {
        try checkKnownFields(data, path: path)
        let file: NodeConfigFile
        do {
            let decoder = JSONDecoder()
            file = try decoder.decode(NodeConfigFile.self, from: data)
        } catch let error as DecodingError {
            throw SettingsError("config file \(path): \(Self.describe(error))")
        } catch {
            throw SettingsError("config file \(path): \(error)")
        }
        try file.apply(to: &settings)
        settings.chain.schema = try schemaText(data, path: path) ?? settings.chain.schema
    }

    /// The payload schema's JSON text, with sorted keys so the same schema gives the same Bang.
    static func schemaText(_ data: Data, path: String) throws(SettingsError) -> [UInt8]? {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let chain = root["chain"] as? [String: Any], let payload = chain["payload"] as? [String: Any],
            let schema = payload["schema"]
        else { return nil }
        guard let text = try? JSONSerialization.data(withJSONObject: schema, options: [.sortedKeys, .fragmentsAllowed]) else {
            throw SettingsError("config file \(path): chain.payload.schema cannot be serialised")
        }
        return Array(text)
    }

    func apply(to s: inout NodeSettings) throws(SettingsError) {
        if let n = node {
            if let v = n.host { s.host = v }
            if let v = n.port { s.port = try NodeSettings.integer("\(v)", "node.port", 0...65535) }
            if let v = n.dataDirectory { s.dataDirectory = v }
            if let v = n.key { s.nodeKey = v }
            if let v = n.mempoolCapacity { s.mempoolCapacity = try NodeSettings.integer("\(v)", "node.mempoolCapacity", 1...5_000_000) }
            if let v = n.verifierTasks { s.verifierTasks = try NodeSettings.integer("\(v)", "node.verifierTasks", 1...256) }
            if let v = n.logLevel { s.logLevel = v }
        }
        if let n = network {
            if let v = n.peers { s.peers = v }
            if let v = n.advertise { s.advertise = v }
        }
        if let l = leap {
            if let v = l.intervalMilliseconds { s.leapIntervalMilliseconds = try NodeSettings.integer("\(v)", "leap.intervalMilliseconds", 0...86_400_000) }
            if let v = l.allowLoopback { s.allowLoopbackLeap = v }
            if let v = l.threshold { s.leapThreshold = try NodeSettings.integer("\(v)", "leap.threshold", 1...100_000) }
        }
        if let c = chain {
            if let v = c.name { s.chain.name = v }
            if let v = c.consensus {
                guard let engine = ConsensusEngines.named(v.engine) else {
                    let known = ConsensusEngines.registered.map { "\"\($0.name)\"" }.joined(separator: ", ")
                    throw SettingsError("chain.consensus.engine \"\(v.engine)\" is not supported; use one of \(known)")
                }
                if let unknown = v.parameters.keys.sorted().first(where: { !engine.parameterNames.contains($0) }) {
                    throw SettingsError("chain.consensus.\(unknown) is not a parameter of engine \"\(v.engine)\" (\(engine.parameterNames.joined(separator: ", ")))")
                }
                // A spec that names an engine starts from that engine's defaults.
                if v.engine != s.chain.engine { s.chain.consensus = [:] }
                s.chain.engine = v.engine
                s.chain.consensus.merge(v.parameters) { _, new in new }
                do throws(RuleError) { _ = try engine.init(parameters: s.chain.consensus) } catch {
                    throw SettingsError("chain.consensus: \(error.message)")
                }
            }
            if let v = c.members { s.chain.members = v.map { ($0.key, $0.roles) } }
            if let v = c.bangCreatorKey { s.chain.creatorKey = v }
            if let v = c.bangTimestamp { s.chain.timestamp = v }
            if let v = c.payload?.contentType { s.chain.contentType = v }
            if let v = c.adminQuorum { s.chain.adminQuorum = v }
            if let v = c.payload?.lockedFields { s.chain.lockedFields = v }
            if let v = c.readAccess {
                guard v == "open" || v == "readers" else { throw SettingsError("chain.readAccess must be \"open\" or \"readers\"") }
                s.chain.readersOnly = v == "readers"
            }
            if let v = c.leap?.intervalMilliseconds { s.chain.leap.intervalMilliseconds = v }
            if let v = c.leap?.threshold { s.chain.leap.threshold = v }
            if let l = c.limits {
                if let v = l.maxPayloadBytes { s.chain.transactionLimits.maxPayloadBytes = v }
                if let v = l.maxTransactionAgeMilliseconds { s.chain.transactionLimits.maxAgeMilliseconds = v }
                if let v = l.maxTransactionFutureMilliseconds { s.chain.transactionLimits.maxFutureMilliseconds = v }
                if let v = l.maxTransactionsPerQuant { s.chain.quantLimits.maxTransactions = v }
                if let v = l.maxQuantBytes { s.chain.quantLimits.maxBytes = v }
            }
        }
    }

    static let knownFields: [String: Set<String>] = [
        "": ["node", "leap", "chain", "network"],
        "network": ["peers", "advertise"],
        "node": ["host", "port", "dataDirectory", "key", "mempoolCapacity", "verifierTasks", "logLevel"],
        "leap": ["intervalMilliseconds", "allowLoopback", "threshold"],
        "chain": ["name", "consensus", "members", "limits", "bangCreatorKey", "bangTimestamp", "payload", "adminQuorum", "leap",
                  "readAccess"],
        "chain.payload": ["contentType", "schema", "lockedFields"],
        "chain.leap": ["intervalMilliseconds", "threshold"],
        "chain.consensus": ConsensusEngines.parameterNames.union(["engine"]),
        "chain.members": ["key", "roles"],
        "chain.limits": ["maxPayloadBytes", "maxTransactionAgeMilliseconds", "maxTransactionFutureMilliseconds",
                         "maxTransactionsPerQuant", "maxQuantBytes"],
    ]

    /// A misspelt setting must not be silently ignored.
    static func checkKnownFields(_ data: Data, path: String) throws(SettingsError) {
        guard let root = try? JSONSerialization.jsonObject(with: data) else { throw SettingsError("config file \(path): not valid JSON") }
        var stack: [(String, Any)] = [("", root)]
        while let (section, value) = stack.popLast() {
            if let list = value as? [Any] {
                stack.append(contentsOf: list.map { (section, $0) })
                continue
            }
            guard let object = value as? [String: Any], let allowed = knownFields[section] else { continue }
            for (key, child) in object {
                guard allowed.contains(key) else {
                    throw SettingsError("config file \(path): unknown setting \"\(section.isEmpty ? key : section + "." + key)\"")
                }
                stack.append((section.isEmpty ? key : section + "." + key, child))
            }
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            "missing \"\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case .dataCorrupted(let context):
            context.codingPath.isEmpty ? "not valid JSON" : "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" is invalid"
        @unknown default:
            "\(error)"
        }
    }
}
