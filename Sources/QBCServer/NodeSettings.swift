import Foundation
public import QBCCore
import QBCCrypto
public import QBCWire

/// Everything a node needs to start, resolved from defaults, a config file, `QBC_*`
/// environment variables and command-line flags (later sources win).
public struct NodeSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 5000
    public var dataDirectory = "./data"
    /// The node's key file; nil means `DATA/node.key`, created on first start.
    public var nodeKey: String?
    public var mempoolCapacity = 200_000
    /// Automatic Leap interval in milliseconds; 0 turns automatic Leaps off.
    public var leapIntervalMilliseconds = 1000
    /// Also seal as soon as this many transactions wait (nil: by interval only).
    public var leapThreshold: Int?
    /// Whether requests from 127.0.0.0/8 and ::1 may trigger a Leap without a signature.
    public var allowLoopbackLeap = true
    public var verifierTasks = ProcessInfo.processInfo.activeProcessorCount
    /// Open HTTP connections at most; past it the oldest idle one is closed for each new one.
    public var maxConnections = 1024
    /// How long a connection may wait before sending a request head, in milliseconds.
    public var requestHeadTimeoutMilliseconds = 15_000
    public var logLevel = "info"
    /// `text` (one line a message, swift-log's format) or `json` (one JSON object a line).
    public var logFormat = "text"
    /// Base URLs of nodes to register with at start (`network.peers`, `QBC_PEERS`, `--peer`).
    public var peers: [String] = []
    /// The URL other nodes reach this one at; default `http://HOST:PORT` once bound.
    public var advertise: String?
    /// Public keys (hex) that may create chains on this node besides the admins of the chains it
    /// serves (`network.chainCreators`, `QBC_CHAIN_CREATORS`).
    public var chainCreators: [String] = []
    /// The chain created at the first start, when the data folder holds none.
    public var chain = ChainSpec.development

    public init() {}

    /// Applies a JSON config file (documentation/configuration.md).
    public mutating func apply(configFile path: String) throws(SettingsError) {
        try NodeConfigFile.apply(path: path, to: &self)
    }

    /// Applies `QBC_*` variables. Unknown values are errors, not silently ignored.
    public mutating func apply(environment: [String: String]) throws(SettingsError) {
        if let v = environment["QBC_HOST"] { host = v }
        if let v = environment["QBC_PORT"] { port = try Self.integer(v, "QBC_PORT", 0...65535) }
        if let v = environment["QBC_DATA"] { dataDirectory = v }
        if let v = environment["QBC_NODE_KEY"] { nodeKey = v }
        if let v = environment["QBC_MEMPOOL_CAPACITY"] { mempoolCapacity = try Self.integer(v, "QBC_MEMPOOL_CAPACITY", 1...5_000_000) }
        if let v = environment["QBC_LEAP_THRESHOLD"] { leapThreshold = try Self.integer(v, "QBC_LEAP_THRESHOLD", 1...100_000) }
        if let v = environment["QBC_LEAP_INTERVAL_MS"] { leapIntervalMilliseconds = try Self.integer(v, "QBC_LEAP_INTERVAL_MS", 0...86_400_000) }
        if let v = environment["QBC_DIFFICULTY"] { chain.consensus["difficultyBits"] = UInt64(try Self.integer(v, "QBC_DIFFICULTY", 0...40)) }
        if let v = environment["QBC_LOG_LEVEL"] { logLevel = v }
        if let v = environment["QBC_LOG_FORMAT"] { logFormat = v }
        if let v = environment["QBC_MAX_CONNECTIONS"] { maxConnections = try Self.integer(v, "QBC_MAX_CONNECTIONS", 16...1_000_000) }
        if let v = environment["QBC_HEAD_TIMEOUT_MS"] {
            requestHeadTimeoutMilliseconds = try Self.integer(v, "QBC_HEAD_TIMEOUT_MS", 100...3_600_000)
        }
        if let v = environment["QBC_ALLOW_LOOPBACK_LEAP"] { allowLoopbackLeap = v == "1" || v == "true" }
        if let v = environment["QBC_PEERS"] { peers = v.split(separator: ",").map { String($0) }.filter { !$0.isEmpty } }
        if let v = environment["QBC_ADVERTISE"] { advertise = v.isEmpty ? nil : v }
        if let v = environment["QBC_CHAIN_CREATORS"] { chainCreators = v.split(separator: ",").map { String($0) }.filter { !$0.isEmpty } }
    }

    /// Checks what only makes sense whole, before the node touches its data folder: peer and
    /// advertised addresses must be node URLs (http:// or https://, a host, an optional port).
    public func validate() throws(SettingsError) {
        guard ["text", "json"].contains(logFormat) else { throw SettingsError("log format \"\(logFormat)\" is not text or json") }
        for peer in peers where !Registration.isPeerAddress(peer) {
            throw SettingsError("peer \"\(peer)\" is not a node address: use http://HOST:PORT or https://HOST:PORT")
        }
        if let advertise, !Registration.isPeerAddress(advertise) {
            throw SettingsError("advertise \"\(advertise)\" is not a node address: use http://HOST:PORT or https://HOST:PORT")
        }
    }

    static func integer(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(SettingsError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw SettingsError("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }
}
