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
    @Option(name: .long, help: "A chain id the registering node serves (repeatable; default: every chain of --node).")
    var chain: [String] = []

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let signer = try key.load()
        let client = NodeClient(baseURL: node)
        var chains = [ChainID]()
        for text in chain {
            guard let id = try? ChainID(hex: text) else { throw CLIError("--chain must be a chain id of 64 hex digits") }
            chains.append(id)
        }
        if chains.isEmpty {
            let list = try await callNode { try await client.call("GET", "/chains", as: [StatsJSON].self) }
            chains = list.compactMap { try? ChainID(hex: $0.chain) }
        }
        let registration = Registration(key: signer, address: address, chains: chains, timestamp: .now())
        let peers = try await callNode { try await client.register(registration) }
        guard !output.json else { return printJSON(peers.peers) }
        for peer in peers.peers { print("\(peer.node) \(peer.address)") }
    }
}
