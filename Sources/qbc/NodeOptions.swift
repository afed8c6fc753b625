import ArgumentParser
import Foundation
import QBCClient

/// `--node URL` (default `QBC_NODE` or http://127.0.0.1:5000) and `--ca-file` for an https:// node.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "The node's base URL (default: QBC_NODE or http://127.0.0.1:5000).")
    var node: String?

    @Option(name: .long, help: "A CA certificate (PEM) to trust for an https:// node (default: QBC_CA_FILE, else the system's roots).")
    var caFile: String?

    var url: String { node ?? ProcessInfo.processInfo.environment["QBC_NODE"] ?? "http://127.0.0.1:5000" }

    func client(chain: String? = nil) throws -> NodeClient {
        let url = self.url
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw CLIError("node address \"\(url)\" is not http:// or https://: use http://HOST:PORT or https://HOST:PORT")
        }
        if let problem = NodeClient.addressProblem(url) { throw CLIError(problem) }
        do {
            let http = try TrustedClients.client(caFile: caFile ?? ProcessInfo.processInfo.environment["QBC_CA_FILE"])
            return NodeClient(baseURL: url, chain: chain, http: http)
        } catch { throw CLIError(error.description) }
    }
}

/// Runs a client call, turning the node's refusal into one CLI line.
func callNode<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as NodeClientError { throw CLIError(error) }
}

/// Prints a value as pretty JSON.
func printJSON<T: Encodable>(_ value: T) {
    print(String(decoding: QBCWireExports.pretty(value), as: UTF8.self))
}

/// `--json`: one JSON object on standard output instead of text, for scripts.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

    /// Prints `text`, or with `--json` the object (keys sorted, one line).
    func emit(_ text: @autoclosure () -> String, _ object: [String: Any]) {
        guard json else { return print(text()) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        print(String(decoding: data, as: UTF8.self))
    }
}
