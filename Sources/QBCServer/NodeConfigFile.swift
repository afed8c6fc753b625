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
        var mempoolBytes: Int?
        var verifierTasks: Int?
        var logLevel: String?
        var logFormat: String?
        var maxConnections: Int?
        var requestHeadTimeoutMilliseconds: Int?
        var requestBodyPauseMilliseconds: Int?
    }

    struct Leap: Decodable {
        var intervalMilliseconds: Int?
        var threshold: Int?
        var allowLoopback: Bool?
    }

    struct Network: Decodable {
        var peers: [String]?
        var advertise: String?
        var chainCreators: [String]?
        var syncIntervalMilliseconds: Int?
        var caFile: String?
    }

    struct API: Decodable {
        var corsOrigins: [String]?
        var readyMaxLag: Int?
        var explorer: Bool?
        var finalDepth: Int?
        var tlsCertificate: String?
        var tlsKey: String?
    }

    var node: Node?
    var api: API?
    var leap: Leap?
    var network: Network?

    /// Reads `path` and applies it on top of `settings`.
    static func apply(path: String, to settings: inout NodeSettings) throws(SettingsError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw SettingsError("cannot read config file \(path)") }
        try apply(data, path: path, to: &settings)
    }

    private static func apply(_ data: Data, path: String, to settings: inout NodeSettings) throws(SettingsError) {
        try ConfigFields.check(data, known: knownFields, path: path)
        let file: NodeConfigFile
        do {
            let decoder = JSONDecoder()
            file = try decoder.decode(NodeConfigFile.self, from: data)
        } catch let error as DecodingError {
            // Foundation says only "not valid JSON" of a number that is no Int (100.5, 1e30), in
            // JSON that `check` has just parsed: name the setting instead.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty, let name = fractionalSetting(in: data) {
                throw SettingsError("config file \(path): \"\(name)\" must be a whole number")
            }
            throw SettingsError("config file \(path): \(ConfigFields.describe(error))")
        } catch {
            throw SettingsError("config file \(path): \(error)")
        }
        try file.apply(to: &settings)
        // The chain section is a chain spec (QBCWire's ChainSpecFile), checked and read there.
        if let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let chain = root["chain"] {
            guard let object = chain as? [String: Any] else { throw SettingsError("config file \(path): \"chain\" must be an object") }
            try settings.chain.apply(object, section: "chain", path: path)
        }
    }

    /// The first setting outside `chain` whose value is a number but no integer (every such
    /// setting is an integer; the chain section is read apart, with its own checks).
    private static func fractionalSetting(in data: Data) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        for (section, value) in root.sorted(by: { $0.key < $1.key }) where section != "chain" {
            guard let fields = value as? [String: Any] else { continue }
            for (field, value) in fields.sorted(by: { $0.key < $1.key }) {
                guard let number = value as? NSNumber else { continue }  // true and false are 1 and 0: whole
                let double = number.doubleValue
                if double.rounded() != double || abs(double) >= 9.2e18 { return "\(section).\(field)" }
            }
        }
        return nil
    }

    func apply(to s: inout NodeSettings) throws(SettingsError) {
        if let n = node {
            if let v = n.host { s.host = v }
            if let v = n.port { s.port = try NodeSettings.integer("\(v)", "node.port", NodeSettings.portRange) }
            if let v = n.dataDirectory { s.dataDirectory = v }
            if let v = n.key { s.nodeKey = v }
            if let v = n.mempoolCapacity { s.mempoolCapacity = try NodeSettings.integer("\(v)", "node.mempoolCapacity", NodeSettings.mempoolCapacityRange) }
            if let v = n.mempoolBytes { s.mempoolBytes = try NodeSettings.integer("\(v)", "node.mempoolBytes", NodeSettings.mempoolBytesRange) }
            if let v = n.verifierTasks { s.verifierTasks = try NodeSettings.integer("\(v)", "node.verifierTasks", 1...256) }
            if let v = n.logLevel { s.logLevel = v }
            if let v = n.logFormat { s.logFormat = v }
            if let v = n.maxConnections { s.maxConnections = try NodeSettings.integer("\(v)", "node.maxConnections", 16...1_000_000) }
            if let v = n.requestHeadTimeoutMilliseconds {
                s.requestHeadTimeoutMilliseconds = try NodeSettings.integer("\(v)", "node.requestHeadTimeoutMilliseconds", 100...3_600_000)
            }
            if let v = n.requestBodyPauseMilliseconds {
                s.requestBodyPauseMilliseconds = try NodeSettings.integer("\(v)", "node.requestBodyPauseMilliseconds", 100...3_600_000)
            }
        }
        if let a = api {
            if let v = a.corsOrigins { s.corsOrigins = v }
            if let v = a.explorer { s.explorer = v }
            if let v = a.tlsCertificate { s.tlsCertificate = v }
            if let v = a.tlsKey { s.tlsKey = v }
            if let v = a.finalDepth { s.finalDepth = try NodeSettings.integer("\(v)", "api.finalDepth", 0...10_000) }
            if let v = a.readyMaxLag { s.readyMaxLag = try NodeSettings.integer("\(v)", "api.readyMaxLag", 0...1_000_000) }
        }
        if let n = network {
            if let v = n.peers { s.peers = v }
            if let v = n.advertise { s.advertise = v }
            if let v = n.chainCreators { s.chainCreators = v }
            if let v = n.caFile { s.caFile = v }
            if let v = n.syncIntervalMilliseconds {
                s.syncIntervalMilliseconds = try NodeSettings.integer("\(v)", "network.syncIntervalMilliseconds", 100...3_600_000)
            }
        }
        if let l = leap {
            if let v = l.intervalMilliseconds { s.leapIntervalMilliseconds = try NodeSettings.integer("\(v)", "leap.intervalMilliseconds", NodeSettings.leapIntervalRange) }
            if let v = l.allowLoopback { s.allowLoopbackLeap = v }
            if let v = l.threshold { s.leapThreshold = try NodeSettings.integer("\(v)", "leap.threshold", NodeSettings.leapThresholdRange) }
        }
    }

    static let knownFields: [String: Set<String>] = [
        "": ["node", "api", "leap", "chain", "network"],
        "api": ["corsOrigins", "readyMaxLag", "explorer", "finalDepth", "tlsCertificate", "tlsKey"],
        "network": ["peers", "advertise", "chainCreators", "caFile", "syncIntervalMilliseconds"],
        "node": ["host", "port", "dataDirectory", "key", "mempoolCapacity", "mempoolBytes", "verifierTasks", "logLevel", "logFormat", "maxConnections",
                 "requestHeadTimeoutMilliseconds", "requestBodyPauseMilliseconds"],
        "leap": ["intervalMilliseconds", "allowLoopback", "threshold"],
    ]
}
