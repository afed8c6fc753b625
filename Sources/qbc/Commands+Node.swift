import Foundation
import ArgumentParser
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire

enum QBCWireExports {
    static func pretty<T: Encodable>(_ value: T) -> [UInt8] { WireJSON.encode(value, pretty: true) }
}

struct TxSubmit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Sign a transaction and submit it to a node; prints its id.")

    @OptionGroup var key: KeyOptions
    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "The chain id; default: the node's default chain (from GET /stats).") var chain: String?
    @OptionGroup var payload: PayloadOptions
    @OptionGroup var lock: LockTargetOptions
    @Option(name: .long, help: "Return only once the transaction is committed, or final (BFT, or api.finalDepth Quants deep).")
    var wait: WaitFor?
    @Option(name: .long, help: "With --wait: give up after this many seconds (exit 1).") var timeout: Int = 60
    @Option(name: .long, help: "With --wait on a readers-only chain: a reader's key file to read the transaction back with.")
    var reader: String?
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "With --wait final on a proof-of-work or proof-of-authority chain: Quants on top of it (the node's api.finalDepth).")
    var depth: UInt64 = 6

    enum WaitFor: String, ExpressibleByArgument, CaseIterable { case committed, final }

    /// Before anything is sent: a timeout that cannot be met used to fail after the submission.
    func validate() throws {
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be 1 to 86400 seconds, got \(timeout)") }
    }

    func run() async throws {
        var bytes = try payload.payload()
        let signer = try key.load()
        let client = try node.client(chain: chain)
        let chainID: ChainID
        if let chain, let id = try? ChainID(hex: chain) {
            chainID = id
        } else {
            let stats = try await callNode { try await client.stats() }
            guard let id = try? ChainID(hex: stats.chain) else { throw CLIError("the node reported an invalid chain id") }
            chainID = id
        }
        var contentType = payload.contentType
        let rules = try await callNode { try await client.bang() }.rules
        // Waiting reads the transaction back: on a readers-only chain that needs a reader's proof,
        // so say so before submitting anything.
        if wait != nil, rules.readersOnly, reader == nil {
            throw CLIError("chain \(rules.name) is readers-only: --wait reads the transaction back, so give --reader FILE (a reader's key), or leave out --wait")
        }
        let readerKey = try reader.map { try KeyOptions.load($0, passphrase: key.passphrase) }
        let fields = rules.payload.lockedFields
        if !fields.isEmpty {
            // The chain names fields that must be locked: to --lock-to, or by default to its readers.
            let target: LockTarget
            if let chosen = try lock.target() { target = chosen } else { target = .recipients(try await Self.readers(client)) }
            bytes = try Self.lockFields(fields, of: bytes, chain: chainID, sender: signer.publicKey, to: target)
        } else if let target = try lock.target() {
            bytes = try Lock.sealForCLI(bytes, contentType: contentType, chain: chainID, sender: signer.publicKey, to: target).encoded
            contentType = Lock.contentType
        }
        // What the node will check, with the chain's own limit: a lock's envelope adds bytes.
        let limit = rules.transactionLimits.maxPayloadBytes
        guard bytes.count <= limit else {
            let plaintext = try payload.payload().count
            let overhead = bytes.count - plaintext
            throw CLIError(overhead > 0
                ? "the locked payload is \(bytes.count) bytes (\(plaintext) of data and \(overhead) of lock envelope); chain \(rules.name) takes at most \(limit): keep the data under \(max(0, limit - overhead)) bytes"
                : "payload is \(bytes.count) bytes; chain \(rules.name) takes at most \(limit)")
        }
        let tx = Transaction.make(chain: chainID, contentType: contentType, payload: bytes, signer: signer)
        let result = try await callNode { try await client.submit(tx) }
        let id = result.id ?? tx.id.hex
        guard let wait else { return output.emit(id, ["id": id, "status": result.status]) }
        if !output.json { print(id) }
        let height = try await Self.wait(for: wait, id: tx.id.hex, client: client, timeout: timeout, depth: depth, reader: readerKey)
        output.emit("\(wait.rawValue) at height \(height)", ["id": id, "status": wait.rawValue, "height": Int(clamping: height)])
    }

    /// Polls the transaction until it is committed, or final: under BFT once committed, else once
    /// `depth` Quants are on top of its own (as the event stream's `final`). Prints its height.
    static func wait(
        for state: WaitFor, id: String, client: NodeClient, timeout: Int, depth: UInt64, reader: SigningKey? = nil
    ) async throws -> UInt64 {
        let deadline = ContinuousClock.now + .seconds(max(1, timeout))
        while ContinuousClock.now < deadline {
            let lookup = try await callNode {
                guard let reader else { return try await client.transaction(id) }
                return try await client.provenRead("/tx/\(id)", reader: reader, as: TransactionLookupJSON.self)
            }
            let final = lookup.final == true || (lookup.confirmations ?? 0) > depth
            if lookup.status == "committed", state == .committed || final, let height = lookup.height {
                return height
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("transaction \(id) was not \(state.rawValue) within \(timeout) s")
    }

    static func readers(_ client: NodeClient) async throws -> [PublicKey] {
        let members = try await callNode { try await client.members() }
        let readers = members.members.filter { $0.roles.contains("reader") }.compactMap { try? PublicKey(hex: $0.key) }
        guard !readers.isEmpty else { throw CLIError("the chain locks fields to its readers but has none; give --lock-to keys") }
        return readers
    }

    /// Replaces each named top-level field by its locked value (`qbc-lock:v1:` + base64 envelope).
    static func lockFields(_ fields: [String], of payload: [UInt8], chain: ChainID, sender: PublicKey, to target: LockTarget) throws -> [UInt8] {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] else {
            throw CLIError("this chain locks fields of JSON objects: --data must be a JSON object")
        }
        for name in fields {
            guard let value = object[name] else { continue }
            let text = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
            let lock = try Lock.sealForCLI(Array(text), contentType: "application/json", chain: chain, sender: sender, to: target)
            object[name] = PayloadRules.lockedValuePrefix + Base64.encode(lock.encoded)
        }
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

struct TxGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show a transaction: committed (with its Quant, and whether it is final or how many confirmations it has) or waiting.")

    @Argument(help: "The transaction id (64 hex digits).") var id: String
    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "A chain id or name; default: the node's default chain.") var chain: String?
    @OptionGroup var read: ReaderOptions

    func run() async throws {
        guard (try? Hash(hex: id)) != nil else { throw CLIError("the transaction id must be 64 hex digits") }
        let client = try node.client(chain: chain)
        let reader = try read.load()
        let lookup = try await callNode {
            guard let reader else { return try await client.transaction(id) }
            return try await client.provenRead("/tx/\(id)", reader: reader, anonymous: read.anonymous, as: TransactionLookupJSON.self)
        }
        print(Self.describe(lookup))
    }

    /// The node's answer, pretty, with a JSON payload also shown decoded (`payloadJSON`) beside
    /// its base64, so a reader need not decode it by hand.
    static func describe(_ lookup: TransactionLookupJSON) -> String {
        let encoded = QBCWireExports.pretty(lookup)
        guard lookup.transaction.contentType == "application/json", let bytes = try? Base64.decode(lookup.transaction.payload),
            let payload = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            var object = try? JSONSerialization.jsonObject(with: Data(encoded)) as? [String: Any],
            var transaction = object["transaction"] as? [String: Any]
        else { return String(decoding: encoded, as: UTF8.self) }
        transaction["payloadJSON"] = payload
        object["transaction"] = transaction
        guard let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return String(decoding: encoded, as: UTF8.self)
        }
        return String(decoding: pretty, as: UTF8.self)
    }
}

struct LeapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leap",
        abstract: "Seal the waiting transactions into a Quant.",
        discussion: "Unsigned requests are accepted from the node's own machine; elsewhere give --key (an admin or authority key).")

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "Sign the request with this admin or authority key file.") var key: String?
    @OptionGroup var passphrase: PassphraseOptions
    @Option(name: .long, help: "A chain id or name; default: the node's default chain.") var chain: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try node.client(chain: chain)
        let result: LeapJSON
        if let key {
            let options = try KeyOptions.parse(["--key", key] + (passphrase.passphraseFile.map { ["--passphrase-file", $0] } ?? []))
            let signer = try options.load()
            let stats = try await callNode { try await client.stats() }
            guard let id = try? ChainID(hex: stats.chain) else { throw CLIError("the node reported an invalid chain id") }
            result = try await callNode { try await client.leap(signedBy: signer, chain: id, now: .now()) }
        } else {
            result = try await callNode { try await client.leap() }
        }
        var object: [String: Any] = ["sealed": result.sealed, "message": result.message]
        if let quant = result.quant {
            object["height"] = Int(clamping: quant.height)
            object["hash"] = quant.hash
        }
        output.emit(result.message + (result.quant.map { "\nquant \($0.height) \($0.hash)" } ?? ""), object)
    }
}

struct ChainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain", abstract: "Print one page of the chain (Quants with their transactions) as JSON.")

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "First height.") var from: UInt64 = 1
    @Option(name: .long, help: "Quants per page (1-1000).") var limit: Int = 20
    @Option(name: .long, help: "A chain id or name; default: the node's default chain.") var chain: String?
    @OptionGroup var read: ReaderOptions

    func run() async throws {
        let client = try node.client(chain: chain)
        let reader = try read.load()
        printJSON(try await callNode {
            guard let reader else { return try await client.page(from: from, limit: limit) }
            return try await client.provenRead("/chain?from=\(from)&limit=\(limit)", reader: reader, anonymous: read.anonymous, as: ChainPageJSON.self)
        })
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print a chain's stats: height, tip, work, transactions, mempool.")

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "A chain id or name; default: the node's default chain.") var chain: String?

    func run() async throws {
        let client = try node.client(chain: chain)
        printJSON(try await callNode { try await client.stats() })
    }
}
