import Foundation
import QBCClient
import QBCCrypto
import QBCHarness
import QBCTestSupport
import Testing

@Suite struct ChainCommandTests {
    /// The README's "Many chains on one node" block, as pasted, with the files it names from config/.
    @Test func theReadmeManyChainsBlockWorksAsWritten() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(
            dataDirectory: dir.file("data"), arguments: ["--config", "config/dev.json", "--leap-interval-ms", "500"])
        let environment = ["QBC_NODE": node.url]
        let root = NodeProcess.repositoryRoot
        func qbc(_ arguments: [String]) async throws -> CommandRunner.Result {
            try await CommandRunner.qbc(arguments, environment: environment, directory: root)
        }
        let steps: [[String]] = [
            ["bang", "--key", "keys-example/admin.key", "--spec", "config/orders.json"],
            ["tx", "submit", "--chain", "orders", "--key", "keys-example/writer1.key", "--data", #"{"sku":"ABC-1","qty":2}"#, "--wait", "committed"],
            ["tx", "submit", "--key", "keys-example/writer1.key", "--data", #"{"n":1}"#, "--wait", "committed"],
            ["fork", "--key", "keys-example/admin.key", "--chain", "dev", "--at", "1", "--spec", "config/dev-b.json"],
            ["member", "add", "--chain", "orders", "--key", "keys-example/admin.key", "--member", "keys-example/reader.key", "--role", "writer"],
        ]
        for step in steps {
            let result = try await qbc(step)
            #expect(result.status == 0, "qbc \(step.joined(separator: " ")): \(result.stderr)")
        }
        let reader = try KeyFile.summary(of: Array(try Data(contentsOf: URL(fileURLWithPath: NodeProcess.demoKey("reader"))))).publicKey.hex
        // The change takes effect once its Quant commits.
        var granted = false
        for _ in 0..<60 where !granted {
            let list = try await qbc(["member", "list", "--chain", "orders"])
            granted = list.status == 0 && list.stdout.split(separator: "\n").contains { $0.contains(reader) && $0.contains("writer") }
            if !granted { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(granted, "the reader became a writer of orders")
        let chains = try await qbc(["chains"])
        #expect(chains.stdout.contains("\"orders\"") && chains.stdout.contains("\"dev-b\""), "\(chains.stdout)")
        // Chains by name wherever a chain is asked for: registering node 2 for two of them.
        let register = try await qbc([
            "register", "--node", node.url, "--key", "keys-example/node2.key", "--address", "http://127.0.0.1:1",
            "--chain", "orders", "--chain", "dev", "--json",
        ])
        #expect(register.status == 0 && register.stdout.contains("http://127.0.0.1:1"), "\(register.stderr)")
        let unknown = try await qbc(["register", "--node", node.url, "--key", "keys-example/node2.key", "--address", "http://127.0.0.1:1", "--chain", "nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("neither a chain id"), "\(unknown.stderr)")

        // The README's readers-only block, next, on the same node.
        for step in [
            ["bang", "--key", "keys-example/admin.key", "--spec", "config/vault.json"],
            ["read-key", "register", "--chain", "vault", "--key", "keys-example/reader.key"],
            ["read-key", "register", "--chain", "vault", "--key", "keys-example/writer2.key"],
        ] {
            let result = try await qbc(step)
            #expect(result.status == 0, "qbc \(step.joined(separator: " ")): \(result.stderr)")
        }
        let id = try await qbc(["tx", "submit", "--chain", "vault", "--key", "keys-example/writer1.key", "--data", #"{"note":"for readers"}"#])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var read = [CommandRunner.Result]()
        for _ in 0..<40 {
            read = []
            for extra in [[], ["--anonymous"]] {
                read.append(try await qbc(["tx", "get", id, "--chain", "vault", "--reader", "keys-example/reader.key"] + extra))
            }
            if read.allSatisfy({ $0.status == 0 && $0.stdout.contains("committed") }) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(read.count == 2 && read.allSatisfy { $0.status == 0 && $0.stdout.contains("committed") }, "\(read.map(\.stderr))")
    }

    /// `qbc bang`, `qbc member add|remove|list` and `qbc fork` against one node, as a user runs them.
    @Test func bangMemberAndForkFromTheCLI() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(dataDirectory: dir.file("data"))
        let nodeKey = try KeyFile.open(Array(try Data(contentsOf: URL(fileURLWithPath: dir.file("data/node.key")))), passphrase: nil)
        let admin = NodeProcess.demoKey("admin")
        let writer = NodeProcess.demoKey("writer1")
        let newcomer = SigningKey()
        let spec = """
            {"name": "orders", "consensus": {"engine": "pow", "difficultyBits": 2},
             "members": [{"key": "f7fdc2532044421feb0a3205494d3c7b517e9b1a88565dbed8c1b3fe97bcf999", "roles": ["admin"]},
                         {"key": "a0644396b3294a598c2ae958f5eaeffd1aa45f56c7582e70495665ddba97a8c7", "roles": ["writer"]},
                         {"key": "\(nodeKey.publicKey.hex)", "roles": ["node"]}],
             "payload": {"contentType": "application/json",
                         "schema": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}}}}}
            """
        try spec.write(toFile: dir.file("orders.json"), atomically: true, encoding: .utf8)
        let bang = try await CommandRunner.qbc(["bang", "--node", node.url, "--key", admin, "--spec", dir.file("orders.json")])
        #expect(bang.status == 0, "\(bang.stderr)")
        #expect(bang.stdout.contains("orders created"))

        let good = try await CommandRunner.qbc(["tx", "submit", "--node", node.url, "--chain", "orders", "--key", writer, "--data", #"{"sku":"A"}"#])
        #expect(good.status == 0, "\(good.stderr)")
        let bad = try await CommandRunner.qbc(["tx", "submit", "--node", node.url, "--chain", "orders", "--key", writer, "--data", #"{"n":1}"#])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("422 invalid_payload"))

        let add = try await CommandRunner.qbc(
            ["member", "add", "--node", node.url, "--chain", "orders", "--key", admin, "--member", newcomer.publicKey.hex, "--role", "writer"])
        #expect(add.status == 0, "\(add.stderr)")
        let byWriter = try await CommandRunner.qbc(
            ["member", "add", "--node", node.url, "--chain", "orders", "--key", writer, "--member", newcomer.publicKey.hex, "--role", "admin"])
        #expect(byWriter.status != 0)
        #expect(byWriter.stderr.contains("403 not_authorized"))
        let leap = try await CommandRunner.qbc(["leap", "--node", node.url, "--chain", "orders"])
        #expect(leap.status == 0, "\(leap.stderr)")
        let list = try await CommandRunner.qbc(["member", "list", "--node", node.url, "--chain", "orders"])
        #expect(list.stdout.contains("\(newcomer.publicKey.hex) writer"))
        let before = try await CommandRunner.qbc(["member", "list", "--node", node.url, "--chain", "orders", "--height", "0"])
        #expect(!before.stdout.contains(newcomer.publicKey.hex))

        try #"{"name": "orders-b"}"#.write(toFile: dir.file("fork.json"), atomically: true, encoding: .utf8)
        let fork = try await CommandRunner.qbc(
            ["fork", "--node", node.url, "--key", admin, "--chain", "orders", "--at", "1", "--spec", dir.file("fork.json")])
        #expect(fork.status == 0, "\(fork.stderr)")
        #expect(fork.stdout.contains("orders-b created"))
        let forkStats = try await CommandRunner.qbc(["stats", "--node", node.url, "--chain", "orders-b"])
        #expect(forkStats.stdout.contains("\"fork\""))
        // The fork inherits the schema and the membership at height 1 (the newcomer included).
        let inherited = try await CommandRunner.qbc(["member", "list", "--node", node.url, "--chain", "orders-b"])
        #expect(inherited.stdout.contains(newcomer.publicKey.hex))
        let forkBad = try await CommandRunner.qbc(["tx", "submit", "--node", node.url, "--chain", "orders-b", "--key", writer, "--data", #"{"n":1}"#])
        #expect(forkBad.stderr.contains("422 invalid_payload"))

        let badMember = try await CommandRunner.qbc(
            ["member", "add", "--node", node.url, "--chain", "orders", "--key", admin, "--member", "zz", "--role", "writer"])
        #expect(badMember.status != 0)
        #expect(badMember.stderr.contains("--member zz is neither a public key (64 hex digits) nor a key file"))
        let badRole = try await CommandRunner.qbc(
            ["member", "add", "--node", node.url, "--chain", "orders", "--key", admin, "--member", newcomer.publicKey.hex, "--role", "king"])
        #expect(badRole.stderr.contains("unknown role"))
        let missing = try await CommandRunner.qbc(["bang", "--node", node.url, "--key", admin, "--spec", dir.file("nope.json")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read chain spec"))
    }
}
