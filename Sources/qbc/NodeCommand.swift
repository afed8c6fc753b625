import ArgumentParser
import Foundation
import Logging
import QBCCore
import QBCCrypto
import QBCNode
import QBCServer
import QBCWire

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a QBC node (HTTP API on 127.0.0.1:5000, data in ./data by default).",
        discussion: """
            Settings come from built-in defaults, then --config FILE (or QBC_CONFIG), then QBC_* environment \
            variables, then these flags. With no settings at all the node runs a single-node development chain. \
            See documentation/configuration.md.
            """)

    @Option(name: .long, help: "A JSON config file, e.g. config/dev.json.") var config: String?
    @Option(name: .long, help: "Address to listen on.") var host: String?
    @Option(name: .long, help: "Port to listen on (0 picks a free one).") var port: Int?
    @Option(name: .long, help: "Data folder.") var data: String?
    @Option(name: .long, help: "The node's key file.") var key: String?
    @Option(name: .long, help: "Automatic Leap interval in ms (0 = only by request).") var leapIntervalMs: Int?
    @Option(name: .long, help: "Also Leap as soon as this many transactions wait.") var leapThreshold: Int?
    @Option(name: .long, help: "Proof-of-work difficulty in bits for a chain created now.") var difficulty: UInt8?
    @Option(name: .long, help: "Maximum waiting transactions.") var mempoolCapacity: Int?
    @Option(name: .long, help: "Maximum bytes of waiting transactions, all chains together.") var mempoolBytes: Int?
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?
    @Option(name: .long, help: "text (the default) or json (one object a line).") var logFormat: String?
    @Option(name: .customLong("peer"), help: "A node to register with at start (repeatable).") var peers: [String] = []
    @Option(name: .long, help: "The URL other nodes reach this one at (default http://HOST:PORT).") var advertise: String?
    @Option(name: .customLong("cors-origin"), help: "An origin browser pages may call this node from, or * (repeatable; CORS is off without).")
    var corsOrigins: [String] = []
    @Option(name: .long, help: "Serve HTTPS with this certificate chain (PEM); needs --tls-key.") var tlsCert: String?
    @Option(name: .long, help: "The private key (PEM) of --tls-cert.") var tlsKey: String?
    @Option(name: .long, help: "A CA certificate (PEM) trusted for https:// peers instead of the system's roots.") var caFile: String?
    @OptionGroup var passphrase: PassphraseOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var settings = NodeSettings()
        do {
            if let path = config ?? environment["QBC_CONFIG"] { try settings.apply(configFile: path) }
            try settings.apply(environment: environment)
        } catch { throw CLIError("\(error)") }
        do {
            if let port { settings.port = try NodeSettings.flag(port, "--port", NodeSettings.portRange) }
            if let leapIntervalMs { settings.leapIntervalMilliseconds = try NodeSettings.flag(leapIntervalMs, "--leap-interval-ms", NodeSettings.leapIntervalRange) }
            if let leapThreshold { settings.leapThreshold = try NodeSettings.flag(leapThreshold, "--leap-threshold", NodeSettings.leapThresholdRange) }
            if let difficulty { settings.chain.consensus["difficultyBits"] = UInt64(try NodeSettings.flag(Int(difficulty), "--difficulty", NodeSettings.difficultyRange)) }
            if let mempoolCapacity { settings.mempoolCapacity = try NodeSettings.flag(mempoolCapacity, "--mempool-capacity", NodeSettings.mempoolCapacityRange) }
            if let mempoolBytes { settings.mempoolBytes = try NodeSettings.flag(mempoolBytes, "--mempool-bytes", NodeSettings.mempoolBytesRange) }
        } catch { throw CLIError("\(error)") }
        if let host { settings.host = host }
        if let data { settings.dataDirectory = data }
        if let key { settings.nodeKey = key }
        if let logLevel { settings.logLevel = logLevel }
        if let logFormat { settings.logFormat = logFormat }
        if !peers.isEmpty { settings.peers = peers }
        if let advertise { settings.advertise = advertise }
        if !corsOrigins.isEmpty { settings.corsOrigins = corsOrigins }
        if let tlsCert { settings.tlsCertificate = tlsCert }
        if let tlsKey { settings.tlsKey = tlsKey }
        if let caFile { settings.caFile = caFile }
        do { try settings.validate() } catch { throw CLIError("\(error)") }
        guard let level = Logger.Level(rawValue: settings.logLevel) else { throw CLIError("unknown log level \(settings.logLevel)") }

        let json = settings.logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        MetricsBackend.bootstrap()
        let logger = Logger(label: "qbc.node")
        let runtime: NodeRuntime
        do {
            runtime = try await NodeRuntime.open(
                settings: settings, passphrase: try passphrase.unattended(), clock: SystemClock(), logger: logger)
        } catch { throw CLIError("\(error)") }
        let chain = runtime.defaultChain
        let host = settings.host
        let listening = settings
        // Unbuffered lines: tests and scripts read the port from the last one.
        Self.say("qbc node \(runtime.nodeKey.publicKey.hex)")
        Self.say("chain \(chain.rules.name) \(chain.id.hex)")
        do {
            try await runNode(runtime: runtime) { port in
                Self.say("qbc node listening on \(listening.url(port: port))")
            }
        } catch let error as ListenError {
            // A port in use or an address this machine does not have: one line, and out at once.
            logger.error("cannot listen", metadata: ["address": "\(host):\(settings.port)", "reason": "\(error.reason)"])
            throw CLIError("\(error)")
        }
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
