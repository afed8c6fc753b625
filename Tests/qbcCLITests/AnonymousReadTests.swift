import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Anonymous reads on a real node: readers register read keys, prove "some reader" on every read
/// route, and every way a proof can be wrong is refused with its own error.
@Suite struct AnonymousReadTests {
    static let admin = NodeProcess.demoKey("admin")
    static let writer = NodeProcess.demoKey("writer1")
    static let reader = NodeProcess.demoKey("reader")
    static let writer2 = NodeProcess.demoKey("writer2")

    /// A readers-only chain whose readers are `reader` and `writer2`; both read keys registered
    /// (the first by the Python client written from the docs); one transaction committed.
    struct Vault {
        let dir: TemporaryDirectory
        let node: LocalNode
        let chain: ChainID
        let committed: String

        init(name: String = "vault") async throws {
            dir = try TemporaryDirectory()
            node = try await NodeProcess.start(
                dataDirectory: dir.file("data"), arguments: ["--config", "config/dev.json", "--leap-interval-ms", "200"])
            chain = try await Self.bang(name, on: node, in: dir)
            try await ExplorerTests.Scene.qbc(node, ["member", "add", "--key", AnonymousReadTests.admin, "--chain", name,
                                               "--member", AnonymousReadTests.writer2, "--role", "reader"])
            try await Self.waitForRoles(["reader"], of: "2abbe9470d77d34e1fd256cfbf3a0fa17278f31e136c42cfd606815d10150d8a",
                                        on: NodeClient(baseURL: node.url, chain: name))
            let python = try await CommandRunner.run("/usr/bin/env", [
                "python3", NodeProcess.repositoryRoot + "/documentation/examples/qbc_anon.py", "register", node.url,
                try NodeCommandTests.seed(of: "reader"), chain.hex,
            ])
            #expect(python.status == 0, "the Python client's registration: \(python.stdout)\(python.stderr)")
            try await ExplorerTests.Scene.qbc(node, ["read-key", "register", "--key", AnonymousReadTests.writer2, "--chain", name])
            committed = try await ExplorerTests.Scene.qbc(node, ["tx", "submit", "--chain", name, "--key", AnonymousReadTests.writer, "--data", #"{"v":1}"#])
            try await Self.waitForKeys(2, on: NodeClient(baseURL: node.url, chain: name))
        }

        static func bang(_ name: String, on node: LocalNode, in dir: TemporaryDirectory) async throws -> ChainID {
            let spec = """
                {"name": "\(name)", "readAccess": "readers", "consensus": {"engine": "pow", "difficultyBits": 2},
                 "members": [{"key": "f7fdc2532044421feb0a3205494d3c7b517e9b1a88565dbed8c1b3fe97bcf999", "roles": ["admin"]},
                             {"key": "a0644396b3294a598c2ae958f5eaeffd1aa45f56c7582e70495665ddba97a8c7", "roles": ["writer"]},
                             {"key": "3033c03ceb018da65410a754f2a2175ffb447dd85db308f5e6cfa6f3c0660f83", "roles": ["reader"]},
                             {"key": "13fb207994a537d14ebb012a868fadc72b30fef04ced1ca29847337a809ba2ec", "roles": ["node"]}]}
                """
            try spec.write(toFile: dir.file("\(name).json"), atomically: true, encoding: .utf8)
            let line = try await ExplorerTests.Scene.qbc(node, ["bang", "--key", AnonymousReadTests.admin, "--spec", dir.file("\(name).json")])
            return try ChainID(hex: String(line.prefix(64)))
        }

        /// Membership changes commit with a Leap; /members is public on a readers-only chain.
        static func waitForRoles(_ roles: [String], of member: String, on client: NodeClient) async throws {
            for _ in 0..<100 {
                if try await client.members().members.contains(where: { $0.key == member && $0.roles == roles }) { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("\(member) never held \(roles)")
        }

        static func waitForKeys(_ count: Int, on client: NodeClient) async throws {
            for _ in 0..<100 {
                if try await client.readKeys().keys.count == count { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("the chain's key set never reached \(count) keys")
        }
    }

    /// The headers of an anonymous proof for GET `path`, made over `set` with a fresh challenge.
    static func headers(_ identity: SigningKey, path: String, node: LocalNode, chain: ChainID, set: ReadKeySet) async throws -> [String: String] {
        let challenge = try await NodeClient(baseURL: node.url, chain: chain.hex).challenge()
        let nonce = try Hex.decode(challenge.nonce)
        let proof = try #require(AnonymousRead.prove(ReadSecret(of: identity), set: set, chain: chain, nonce: nonce, method: "GET", path: path))
        return ["QBC-Key-Set": set.hash.hex, "QBC-Nonce": challenge.nonce, "QBC-Anonymous-Proof": Base64.encode(proof.encoded)]
    }

    static func get(_ node: LocalNode, _ path: String, _ headers: [String: String]) async throws -> (status: Int, code: String?) {
        let answer = try await ExplorerTests.get(node.url + path, headers: headers)
        return (answer.status, (answer.json as? [String: Any])?["error"] as? String)
    }

    @Test func aReaderReadsEveryRouteWithoutSayingWhichReader() async throws {
        let vault = try await Vault()
        let client = NodeClient(baseURL: vault.node.url, chain: "vault")
        let reader = try KeyOptionsLoader.load(Self.reader)
        for path in ["/tx/\(vault.committed)", "/chain?from=1", "/quants/1", "/mempool", "/headers?from=1", "/stats"] {
            do {
                _ = try await client.provenRead(path, reader: reader, anonymous: true, as: JSONValueBox.self)
            } catch {
                Issue.record("anonymous read of \(path): \(error)")
            }
        }
        // The CLI's --anonymous on tx get, chain, watch; the node's log names no reader.
        let cli = ["--chain", "vault", "--reader", Self.reader, "--anonymous"]
        let got = try await CommandRunner.qbc(["tx", "get", vault.committed] + cli, environment: ["QBC_NODE": vault.node.url])
        #expect(got.status == 0 && got.stdout.contains(vault.committed), "\(got.stderr)")
        let page = try await CommandRunner.qbc(["chain"] + cli, environment: ["QBC_NODE": vault.node.url])
        #expect(page.status == 0 && page.stdout.contains("\"quants\""), "\(page.stderr)")
        let watched = try await CommandRunner.qbc(["watch", "--from", "0", "--max-events", "1"] + cli, environment: ["QBC_NODE": vault.node.url])
        #expect(watched.status == 0 && watched.stdout.contains("\"quant\""), "\(watched.stderr)")
        // tx submit --wait reads the transaction back: with a reader's key, or refused before submitting.
        let waited = try await CommandRunner.qbc(
            ["tx", "submit", "--chain", "vault", "--key", Self.writer, "--data", #"{"w":1}"#, "--wait", "committed", "--reader", Self.reader],
            environment: ["QBC_NODE": vault.node.url])
        #expect(waited.status == 0 && waited.stdout.contains("committed at height"), "\(waited.stderr)")
        let unwaited = try await CommandRunner.qbc(
            ["tx", "submit", "--chain", "vault", "--key", Self.writer, "--data", #"{"w":2}"#, "--wait", "committed"],
            environment: ["QBC_NODE": vault.node.url])
        #expect(unwaited.status != 0 && unwaited.stderr.contains("give --reader FILE") && unwaited.stdout.isEmpty, "\(unwaited.stderr)")
        let keyless = try await CommandRunner.qbc(["tx", "get", vault.committed, "--chain", "vault", "--anonymous"],
                                                         environment: ["QBC_NODE": vault.node.url])
        #expect(keyless.status != 0 && keyless.stderr.contains("give --reader FILE"), "\(keyless.stderr)")
        // A key outside the set cannot even make a proof; the client says so.
        let outsider = try await CommandRunner.qbc(["tx", "get", vault.committed, "--chain", "vault", "--reader", Self.writer, "--anonymous"],
                                            environment: ["QBC_NODE": vault.node.url])
        #expect(outsider.status != 0 && outsider.stderr.contains("not in the chain's key set"), "\(outsider.stderr)")

        // The Python client written from the docs makes proofs the node accepts.
        let python = try await CommandRunner.run("/usr/bin/env", [
            "python3", NodeProcess.repositoryRoot + "/documentation/examples/qbc_anon.py", "read", vault.node.url,
            try NodeCommandTests.seed(of: "writer2"), vault.chain.hex, "/chains/\(vault.chain.hex)/tx/\(vault.committed)",
        ])
        #expect(python.status == 0 && python.stdout.hasPrefix("200"), "\(python.stdout)\(python.stderr)")
        // And checks the proofs Swift makes.
        let set = try await client.readKeys().readKeySet()
        let nonce = SecureRandom.bytes(32)
        let path = "/chains/\(vault.chain.hex)/quants/1"
        let proof = try #require(AnonymousRead.prove(ReadSecret(of: reader), set: set, chain: vault.chain, nonce: nonce, method: "GET", path: path))
        let file = vault.dir.file("proof.json")
        let json: [String: Any] = [
            "chain": vault.chain.hex, "nonce": Hex.encode(nonce), "method": "GET", "path": path, "keys": set.keys.map(\.hex),
            "set": set.hash.hex, "proof": Hex.encode(proof.encoded),
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
        let verify = try await CommandRunner.run("/usr/bin/env", ["python3", NodeProcess.repositoryRoot + "/documentation/examples/qbc_anon.py", "verify", file])
        #expect(verify.stdout.hasPrefix("ok"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test func everyWrongProofIsRefusedWithItsOwnError() async throws {
        let vault = try await Vault()
        let other = try await Vault.bang("vault2", on: vault.node, in: vault.dir)
        let client = NodeClient(baseURL: vault.node.url, chain: "vault")
        let (reader, writer, writer2) = (try KeyOptionsLoader.load(Self.reader), try KeyOptionsLoader.load(Self.writer), try KeyOptionsLoader.load(Self.writer2))
        let set = try await client.readKeys().readKeySet()
        let path = "/chains/\(vault.chain.hex)/tx/\(vault.committed)"

        #expect(try await Self.get(vault.node, path, [:]) == (401, "proof_required"))
        var good = try await Self.headers(reader, path: path, node: vault.node, chain: vault.chain, set: set)
        #expect(try await Self.get(vault.node, path, good).status == 200)
        #expect(try await Self.get(vault.node, path, good) == (401, "stale_challenge"), "a replayed challenge")

        good = try await Self.headers(reader, path: path, node: vault.node, chain: vault.chain, set: set)
        #expect(try await Self.get(vault.node, "/chains/\(vault.chain.hex)/quants/1", good) == (401, "bad_proof"), "made for another path")
        let elsewhere = try await Self.headers(reader, path: path, node: vault.node, chain: vault.chain, set: set)
        #expect(try await Self.get(vault.node, "/chains/\(other.hex)/tx/\(vault.committed)", elsewhere) == (401, "stale_challenge"),
                "a challenge of another chain")

        var altered = try await Self.headers(reader, path: path, node: vault.node, chain: vault.chain, set: set)
        var bytes = try Base64.decode(try #require(altered["QBC-Anonymous-Proof"]))
        bytes[64 * set.keys.count - 32] ^= 1  // the low byte of the last response
        altered["QBC-Anonymous-Proof"] = Base64.encode(bytes)
        #expect(try await Self.get(vault.node, path, altered) == (401, "bad_proof"), "one response altered")
        var short = try await Self.headers(reader, path: path, node: vault.node, chain: vault.chain, set: set)
        short["QBC-Anonymous-Proof"] = Base64.encode(Array(bytes.prefix(64)))
        #expect(try await Self.get(vault.node, path, short) == (401, "malformed_proof"), "a proof over one key of two")

        // A non-reader's proof over a set with its own key in place of a reader's, claiming the real set.
        let forgedSet = ReadKeySet([set.keys[0], ReadSecret(of: writer).publicKey])
        let challenge = try await client.challenge()
        let forged = try #require(AnonymousRead.prove(
            ReadSecret(of: writer), set: forgedSet, chain: vault.chain, nonce: try Hex.decode(challenge.nonce), method: "GET", path: path))
        let claimingRealSet = ["QBC-Key-Set": set.hash.hex, "QBC-Nonce": challenge.nonce, "QBC-Anonymous-Proof": Base64.encode(forged.encoded)]
        #expect(try await Self.get(vault.node, path, claimingRealSet) == (401, "bad_proof"), "a non-reader")

        // writer2 stops being a reader: the set changes; proofs over the old set are stale, and
        // writer2's key is no longer in the new one.
        try await ExplorerTests.Scene.qbc(vault.node, ["member", "remove", "--key", Self.admin, "--chain", "vault", "--member", Self.writer2, "--role", "reader"])
        try await Vault.waitForKeys(1, on: client)
        let stale = try await Self.headers(writer2, path: path, node: vault.node, chain: vault.chain, set: set)
        #expect(try await Self.get(vault.node, path, stale) == (409, "stale_key_set"), "a removed reader, over the set it was in")
        let newSet = try await client.readKeys().readKeySet()
        #expect(!newSet.keys.contains(ReadSecret(of: writer2).publicKey))
        #expect(try await Self.get(vault.node, path, try await Self.headers(reader, path: path, node: vault.node, chain: vault.chain, set: newSet)).status == 200)

        var garbage = good
        garbage["QBC-Key-Set"] = "zz"
        #expect(try await Self.get(vault.node, path, garbage) == (401, "malformed_proof"))
    }

    /// The largest sets the issue asks for: 256 readers, a proof of 16 KiB in one header.
    @Test func twoHundredFiftySixReadersProveInOneHeader() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(dataDirectory: dir.file("data"), arguments: ["--config", "config/dev.json", "--leap-interval-ms", "200"])
        let readers = (0..<256).map { _ in SigningKey() }
        var members = [
            #"{"key": "f7fdc2532044421feb0a3205494d3c7b517e9b1a88565dbed8c1b3fe97bcf999", "roles": ["admin"]}"#,
            #"{"key": "13fb207994a537d14ebb012a868fadc72b30fef04ced1ca29847337a809ba2ec", "roles": ["node"]}"#,
        ]
        members += readers.map { #"{"key": "\#($0.publicKey.hex)", "roles": ["reader"]}"# }
        let spec = #"{"name": "wide", "readAccess": "readers", "consensus": {"engine": "pow", "difficultyBits": 2}, "members": [\#(members.joined(separator: ","))]}"#
        try spec.write(toFile: dir.file("wide.json"), atomically: true, encoding: .utf8)
        let line = try await ExplorerTests.Scene.qbc(node, ["bang", "--key", Self.admin, "--spec", dir.file("wide.json")])
        let chain = try ChainID(hex: String(line.prefix(64)))
        let client = NodeClient(baseURL: node.url, chain: "wide")
        let registrations = readers.map { reader in
            Transaction.make(chain: chain, contentType: ReadKeyRegistration.contentType,
                             payload: ReadKeyRegistration(chain: chain, identity: reader).encoded, signer: reader)
        }
        let admitted = try await client.submit(batch: registrations)
        #expect(admitted.admitted == 256, "\(admitted.results.first { $0.status != "admitted" }.map { "\($0)" } ?? "")")
        try await Vault.waitForKeys(256, on: client)
        let set = try await client.readKeys().readKeySet()
        let headers = try await Self.headers(readers[137], path: "/chains/\(chain.hex)/mempool", node: node, chain: chain, set: set)
        #expect((headers["QBC-Anonymous-Proof"]?.utf8.count ?? 0) > 21_000)
        #expect(try await Self.get(node, "/chains/\(chain.hex)/mempool", headers).status == 200)

        // Anyone with a free challenge can make the node check a proof (2n multiplications):
        // checks run a few at a time and the rest are turned away at once, never queued.
        var proofs = [[String: String]]()
        for reader in readers.prefix(12) {
            proofs.append(try await Self.headers(reader, path: "/chains/\(chain.hex)/mempool", node: node, chain: chain, set: set))
        }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for proof in proofs { group.addTask { try await Self.get(node, "/chains/\(chain.hex)/mempool", proof).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
        #expect(statuses.contains(200))
        #expect(await client.answersHealth())
    }
}

/// Any JSON answer, for reads whose shape does not matter here.
struct JSONValueBox: Decodable {
    init(from decoder: any Decoder) throws { _ = try decoder.singleValueContainer() }
}

/// Opens a demo key file (plaintext) as the CLI would.
enum KeyOptionsLoader {
    static func load(_ path: String) throws -> SigningKey {
        try KeyFile.open(Array(try Data(contentsOf: URL(fileURLWithPath: path))), passphrase: nil)
    }
}
