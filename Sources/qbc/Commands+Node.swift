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

    func run() async throws {
        let bytes = try payload.payload()
        let signer = try key.load()
        let client = node.client(chain: chain)
        let chainID: ChainID
        if let chain, let id = try? ChainID(hex: chain) {
            chainID = id
        } else {
            let stats = try await callNode { try await client.stats() }
            guard let id = try? ChainID(hex: stats.chain) else { throw CLIError("the node reported an invalid chain id") }
            chainID = id
        }
        let tx = Transaction.make(chain: chainID, contentType: payload.contentType, payload: bytes, signer: signer)
        let result = try await callNode { try await client.submit(tx) }
        print(result.id ?? tx.id.hex)
    }
}

struct TxGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show a transaction: committed (with its Quant) or waiting.")

    @Argument(help: "The transaction id (64 hex digits).") var id: String
    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "A chain id or name; default: the node's default chain.") var chain: String?

    func run() async throws {
        guard (try? Hash(hex: id)) != nil else { throw CLIError("the transaction id must be 64 hex digits") }
        let client = node.client(chain: chain)
        printJSON(try await callNode { try await client.transaction(id) })
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

    func run() async throws {
        let client = node.client(chain: chain)
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
        print(result.message)
        if let quant = result.quant { print("quant \(quant.height) \(quant.hash)") }
    }
}

struct ChainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain", abstract: "Print one page of the chain (Quants with their transactions) as JSON.")

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "First height.") var from: UInt64 = 1
    @Option(name: .long, help: "Quants per page (1-1000).") var limit: Int = 20
    @Option(name: .long, help: "A chain id or name; default: the node's default chain.") var chain: String?

    func run() async throws {
        let client = node.client(chain: chain)
        printJSON(try await callNode { try await client.page(from: from, limit: limit) })
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print a chain's stats: height, tip, work, transactions, mempool.")

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "A chain id or name; default: the node's default chain.") var chain: String?

    func run() async throws {
        let client = node.client(chain: chain)
        printJSON(try await callNode { try await client.stats() })
    }
}
