import Foundation
import NIOSSL
import QBCClient
import QBCCore
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
    /// Bytes of waiting transactions every chain's mempool may hold together (encoded sizes).
    public var mempoolBytes = 256 << 20
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
    /// How long a request body may pause between two of its parts, in milliseconds.
    public var requestBodyPauseMilliseconds = 10_000
    public var logLevel = "info"
    /// `text` (one line a message, swift-log's format) or `json` (one JSON object a line).
    public var logFormat = "text"
    /// Base URLs of nodes to register with at start (`network.peers`, `QBC_PEERS`, `--peer`).
    public var peers: [String] = []
    /// How often each chain asks its peers for their tips, in milliseconds (a peer met for the
    /// first time is asked at once).
    public var syncIntervalMilliseconds = 1000
    /// The URL other nodes reach this one at; default `http://HOST:PORT` once bound.
    public var advertise: String?
    /// Public keys (hex) that may create chains on this node besides the admins of the chains it
    /// serves (`network.chainCreators`, `QBC_CHAIN_CREATORS`).
    public var chainCreators: [String] = []
    /// Origins a browser page may call this node from (CORS); empty turns CORS off, `*` allows any.
    public var corsOrigins: [String] = []
    /// `/ready` answers 200 only within this many Quants of the best peer's tip, on every chain.
    public var readyMaxLag = 3
    /// Serve the explorer at `/ui` (`api.explorer`, `QBC_EXPLORER`); it reads only public routes.
    public var explorer = true
    /// Quants on top of a proof-of-work or proof-of-authority Quant before the event stream calls
    /// it final (BFT commits are final at once).
    public var finalDepth = 6
    /// HTTPS for the API and peer routes: the server's certificate chain and private key (PEM files).
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// A CA certificate file (PEM) trusted for https:// peers, instead of the system's roots.
    public var caFile: String?
    /// The chain created at the first start, when the data folder holds none.
    public var chain = ChainSpec.development

    public init() {}

    /// The ranges of the settings a flag of `qbc node` can also set; every source is held to them.
    public static let portRange = 0...65535
    public static let mempoolCapacityRange = 1...5_000_000
    public static let mempoolBytesRange = (1 << 20)...(1 << 40)
    public static let leapThresholdRange = 1...100_000
    public static let leapIntervalRange = 0...86_400_000
    public static let difficultyRange = 0...40

    /// A flag's value within `range`, else one line naming the flag.
    public static func flag(_ value: Int, _ name: String, _ range: ClosedRange<Int>) throws(SettingsError) -> Int {
        try integer(String(value), name, range)
    }

    /// Applies a JSON config file (documentation/configuration.md).
    public mutating func apply(configFile path: String) throws(SettingsError) {
        try NodeConfigFile.apply(path: path, to: &self)
    }

    /// Applies `QBC_*` variables. Unknown values are errors, not silently ignored.
    public mutating func apply(environment: [String: String]) throws(SettingsError) {
        if let v = environment["QBC_HOST"] { host = v }
        if let v = environment["QBC_PORT"] { port = try Self.integer(v, "QBC_PORT", Self.portRange) }
        if let v = environment["QBC_DATA"] { dataDirectory = v }
        if let v = environment["QBC_NODE_KEY"] { nodeKey = v }
        if let v = environment["QBC_MEMPOOL_CAPACITY"] { mempoolCapacity = try Self.integer(v, "QBC_MEMPOOL_CAPACITY", Self.mempoolCapacityRange) }
        if let v = environment["QBC_MEMPOOL_BYTES"] { mempoolBytes = try Self.integer(v, "QBC_MEMPOOL_BYTES", Self.mempoolBytesRange) }
        if let v = environment["QBC_LEAP_THRESHOLD"] { leapThreshold = try Self.integer(v, "QBC_LEAP_THRESHOLD", Self.leapThresholdRange) }
        if let v = environment["QBC_LEAP_INTERVAL_MS"] { leapIntervalMilliseconds = try Self.integer(v, "QBC_LEAP_INTERVAL_MS", Self.leapIntervalRange) }
        if let v = environment["QBC_DIFFICULTY"] { chain.consensus["difficultyBits"] = UInt64(try Self.integer(v, "QBC_DIFFICULTY", Self.difficultyRange)) }
        if let v = environment["QBC_LOG_LEVEL"] { logLevel = v }
        if let v = environment["QBC_LOG_FORMAT"] { logFormat = v }
        if let v = environment["QBC_MAX_CONNECTIONS"] { maxConnections = try Self.integer(v, "QBC_MAX_CONNECTIONS", 16...1_000_000) }
        if let v = environment["QBC_HEAD_TIMEOUT_MS"] {
            requestHeadTimeoutMilliseconds = try Self.integer(v, "QBC_HEAD_TIMEOUT_MS", 100...3_600_000)
        }
        if let v = environment["QBC_BODY_PAUSE_MS"] {
            requestBodyPauseMilliseconds = try Self.integer(v, "QBC_BODY_PAUSE_MS", 100...3_600_000)
        }
        if let v = environment["QBC_SYNC_INTERVAL_MS"] {
            syncIntervalMilliseconds = try Self.integer(v, "QBC_SYNC_INTERVAL_MS", 100...3_600_000)
        }
        if let v = environment["QBC_ALLOW_LOOPBACK_LEAP"] { allowLoopbackLeap = v == "1" || v == "true" }
        if let v = environment["QBC_PEERS"] { peers = v.split(separator: ",").map { String($0) }.filter { !$0.isEmpty } }
        if let v = environment["QBC_ADVERTISE"] { advertise = v.isEmpty ? nil : v }
        if let v = environment["QBC_CORS_ORIGINS"] {
            corsOrigins = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let v = environment["QBC_EXPLORER"] { explorer = !(v == "0" || v == "false") }
        if let v = environment["QBC_READY_MAX_LAG"] { readyMaxLag = try Self.integer(v, "QBC_READY_MAX_LAG", 0...1_000_000) }
        if let v = environment["QBC_FINAL_DEPTH"] { finalDepth = try Self.integer(v, "QBC_FINAL_DEPTH", 0...10_000) }
        if let v = environment["QBC_TLS_CERT"] { tlsCertificate = v.isEmpty ? nil : v }
        if let v = environment["QBC_TLS_KEY"] { tlsKey = v.isEmpty ? nil : v }
        if let v = environment["QBC_CA_FILE"] { caFile = v.isEmpty ? nil : v }
        if let v = environment["QBC_CHAIN_CREATORS"] { chainCreators = v.split(separator: ",").map { String($0) }.filter { !$0.isEmpty } }
    }

    /// Checks what only makes sense whole, before the node touches its data folder: peer and
    /// advertised addresses must be node URLs (http:// or https://, a host, an optional port).
    public func validate() throws(SettingsError) {
        guard ["text", "json"].contains(logFormat) else { throw SettingsError("log format \"\(logFormat)\" is not text or json") }
        for peer in peers where !Registration.isPeerAddress(peer) {
            throw SettingsError("peer \"\(peer)\" is not a node address: use http://HOST:PORT or https://HOST:PORT")
        }
        for origin in corsOrigins where origin != "*" && (!Registration.isPeerAddress(origin) || origin.hasSuffix("/")) {
            throw SettingsError("CORS origin \"\(origin)\" is not an origin: use SCHEME://HOST[:PORT] as the browser sends it (no path, no trailing /), or *")
        }
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw SettingsError("HTTPS needs both a certificate and its key (api.tlsCertificate and api.tlsKey)")
        }
        _ = try tls()
        if let caFile { do { _ = try TrustedClients.client(caFile: caFile) } catch { throw SettingsError(error.description) } }
        if let advertise, !Registration.isPeerAddress(advertise) {
            throw SettingsError("advertise \"\(advertise)\" is not a node address: use http://HOST:PORT or https://HOST:PORT")
        }
    }

    /// The server's TLS configuration, nil without HTTPS; the files are read and checked here.
    func tls() throws(SettingsError) -> TLSConfiguration? {
        guard let tlsCertificate, let tlsKey else { return nil }
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(tlsCertificate) } catch {
            throw SettingsError("TLS certificate \(tlsCertificate): not a readable PEM certificate file (\(error))")
        }
        guard !chain.isEmpty else { throw SettingsError("TLS certificate \(tlsCertificate) holds no certificate") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: tlsKey, format: .pem) } catch {
            throw SettingsError("TLS key \(tlsKey): not a readable PEM private key file (\(error))")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        // Building the context checks that the key belongs to the certificate.
        do { _ = try NIOSSLContext(configuration: configuration) } catch {
            throw SettingsError("TLS key \(tlsKey) is not the private key of the certificate in \(tlsCertificate) (\(error))")
        }
        return configuration
    }

    /// `https` with TLS, else `http`.
    public var scheme: String { tlsCertificate == nil ? "http" : "https" }

    /// The node's URL once it listens on `port`: an IPv6 host goes in brackets (`http://[::1]:5000`).
    public func url(port: Int) -> String {
        "\(scheme)://\(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host):\(port)"
    }

    static func integer(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(SettingsError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw SettingsError("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }
}
