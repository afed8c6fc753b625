import ArgumentParser
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire

struct ReadKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read-key", abstract: "A reader's read key, for anonymous reads of readers-only chains (documentation/locks.md).",
        subcommands: [ReadKeyShow.self, ReadKeyRegister.self, ReadKeyList.self])
}

struct ReadKeyShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print the read key (ristretto255) derived from a key file; nothing is sent.")
    @OptionGroup var key: KeyOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let readKey = ReadSecret(of: try key.load()).publicKey.hex
        output.emit(readKey, ["readKey": readKey])
    }
}

struct ReadKeyRegister: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register your read key on a chain (a transaction you sign, with a proof that you hold the key); prints its id.",
        discussion: "The key must hold the reader role. Once committed, the read key joins the chain's key set (qbc read-key list).")
    @OptionGroup var node: NodeOptions
    @OptionGroup var key: KeyOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "The chain (id or name); default: the node's default chain.") var chain: String?

    func run() async throws {
        let identity = try key.load()
        let client = try node.client(chain: chain)
        let stats = try await callNode { try await client.stats() }
        guard let chainID = try? ChainID(hex: stats.chain) else { throw CLIError("the node reported an invalid chain id") }
        let registration = ReadKeyRegistration(chain: chainID, identity: identity)
        let tx = Transaction.make(chain: chainID, contentType: ReadKeyRegistration.contentType, payload: registration.encoded, signer: identity)
        let result = try await callNode { try await client.submit(tx) }
        output.emit(result.id ?? tx.id.hex, ["id": result.id ?? tx.id.hex, "status": result.status, "readKey": registration.key.hex])
    }
}

struct ReadKeyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print a chain's read key set: its hash, then one read key a line.")
    @OptionGroup var node: NodeOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "The chain (id or name); default: the node's default chain.") var chain: String?

    func run() async throws {
        let set = try await callNode { try await node.client(chain: chain).readKeys() }
        output.emit(([set.set] + set.keys).joined(separator: "\n"), ["set": set.set, "keys": set.keys, "height": Int(clamping: set.height)])
    }
}

/// How a command reads a readers-only chain: as a named reader, or anonymously as one of them.
struct ReaderOptions: ParsableArguments {
    @Option(name: .long, help: "Read a readers-only chain with this reader's key file (a proof of key per request).")
    var reader: String?
    @Flag(name: .long, help: "With --reader: prove only that you are one of the chain's readers, not which (its read key must be registered).")
    var anonymous = false
    @OptionGroup var passphrase: PassphraseOptions

    func load() throws -> SigningKey? {
        guard let reader else {
            if anonymous { throw CLIError("--anonymous proves with a reader's key: give --reader FILE") }
            return nil
        }
        return try KeyOptions.load(reader, passphrase: passphrase)
    }
}
