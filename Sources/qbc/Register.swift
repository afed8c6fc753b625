import ArgumentParser
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire

struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register a node with another node by hand (a signed qbc/register/v1 request); prints the peer list.",
        discussion: "The key must hold the node role on the chains named. Running nodes register by themselves with --peer.")

    @Option(name: .long, help: "The node to register with.") var node: String
    @OptionGroup var key: KeyOptions
    @Option(name: .long, help: "The URL other nodes reach the registering node at.") var address: String
    @Option(name: .long, help: "A chain (id or name) the registering node serves (repeatable; default: every chain of --node).")
    var chain: [String] = []

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let signer = try key.load()
        let client = NodeClient(baseURL: node)
        // Chains by id or by name (names are the node's: read from its /chains).
        let served = try await callNode { try await client.call("GET", "/chains", as: [StatsJSON].self) }
        var chains = [ChainID]()
        for text in chain {
            if let id = try? ChainID(hex: text) {
                chains.append(id)
            } else if let named = served.first(where: { $0.name == text }), let id = try? ChainID(hex: named.chain) {
                chains.append(id)
            } else {
                throw CLIError("--chain \(text) is neither a chain id (64 hex digits) nor the name of a chain \(node) serves")
            }
        }
        if chains.isEmpty { chains = served.compactMap { try? ChainID(hex: $0.chain) } }
        let registration = Registration(key: signer, address: address, chains: chains, timestamp: .now())
        let peers = try await callNode { try await client.register(registration) }
        guard !output.json else { return printJSON(peers.peers) }
        for peer in peers.peers { print("\(peer.node) \(peer.address)") }
    }
}
