import ArgumentParser
import QBCClient
import QBCWire

struct ChainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chains", abstract: "List the chains a node serves, with their stats, as JSON.")

    @OptionGroup var node: NodeOptions

    func run() async throws {
        let client = try node.client()
        printJSON(try await callNode { try await client.chains() })
    }
}

struct PeersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers", abstract: "List a node's peers (its own registration first), as JSON.")

    @OptionGroup var node: NodeOptions

    func run() async throws {
        let client = try node.client()
        printJSON(try await callNode { try await client.discover() }.peers)
    }
}
