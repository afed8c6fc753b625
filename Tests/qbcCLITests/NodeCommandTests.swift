import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import QBCClient
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

@Suite struct NodeCommandTests {
    @Test func submitGetLeapAndStatsFromTheCLI() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(dataDirectory: dir.file("data"))
        let writer = NodeProcess.demoKey("writer1")
        let submitted = try await CommandRunner.qbc(["tx", "submit", "--node", node.url, "--key", writer, "--data", #"{"cli":1}"#])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let id = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        let waiting = try await CommandRunner.qbc(["tx", "get", id, "--node", node.url])
        #expect(waiting.stdout.contains("\"status\" : \"waiting\""))
        let leap = try await CommandRunner.qbc(["leap", "--node", node.url])
        #expect(leap.status == 0, "\(leap.stderr)")
        #expect(leap.stdout.contains("sealed Quant 1 with 1 transactions"))
        let committed = try await CommandRunner.qbc(["tx", "get", id, "--node", node.url])
        #expect(committed.stdout.contains("\"status\" : \"committed\""))
        #expect(committed.stdout.contains("\"payloadJSON\""), "a JSON payload is shown decoded: \(committed.stdout)")
        #expect(committed.stdout.contains("\"cli\" : 1"), "\(committed.stdout)")
        let chains = try await CommandRunner.qbc(["chains", "--node", node.url])
        #expect(chains.status == 0 && chains.stdout.contains("\"name\" : \"dev\""), "\(chains.stdout)")
        let peers = try await CommandRunner.qbc(["peers", "--node", node.url])
        #expect(peers.status == 0 && peers.stdout.contains("\"address\""), "\(peers.stdout)")
        let noScheme = try await CommandRunner.qbc(["stats", "--node", "127.0.0.1:\(node.port)"])
        #expect(noScheme.status != 0 && noScheme.stderr.contains("is not http:// or https://"), "\(noScheme.stderr)")
        let ftp = try await CommandRunner.qbc(["stats", "--node", "ftp://127.0.0.1:1"])
        #expect(ftp.status == 1 && ftp.stderr.contains("is not http:// or https://"), "\(ftp.stderr)")
        // A port past 65535 on an IP address trapped inside the HTTP client (exit 132).
        for address in ["http://127.0.0.1:99999", "https://127.0.0.1:65536", "http://127.0.0.1:0"] {
            let badPort = try await CommandRunner.qbc(["stats", "--node", address])
            #expect(badPort.status == 1 && badPort.stderr.contains("a port is 1 to 65535"), "\(address): \(badPort.status) \(badPort.stderr)")
            #expect(badPort.stderr.split(separator: "\n").count == 1, "one line: \(badPort.stderr)")
        }
        // The SDK refuses it too, before any request.
        await #expect(throws: NodeClientError.self) { try await NodeClient(baseURL: "http://127.0.0.1:70000").stats() }
        #expect(await !NodeClient(baseURL: "http://[::1]:65536").isHealthy())
        let stats = try await CommandRunner.qbc(["stats", "--node", node.url])
        #expect(stats.stdout.contains("\"height\" : 1"))
        let chain = try await CommandRunner.qbc(["chain", "--node", node.url, "--from", "1"])
        #expect(chain.stdout.contains(id))
        let signedLeap = try await CommandRunner.qbc(["leap", "--node", node.url, "--key", NodeProcess.demoKey("admin")])
        #expect(signedLeap.stdout.contains("nothing to seal"))
        // --json: one object a line, for scripts.
        let jsonSubmit = try await CommandRunner.qbc([
            "tx", "submit", "--node", node.url, "--key", writer, "--data", #"{"cli":2}"#, "--json",
        ])
        let submittedObject = try JSONSerialization.jsonObject(with: Data(jsonSubmit.stdout.utf8)) as? [String: Any]
        #expect(submittedObject?["status"] as? String == "admitted" && (submittedObject?["id"] as? String)?.count == 64, "\(jsonSubmit.stdout)")
        let jsonLeap = try await CommandRunner.qbc(["leap", "--node", node.url, "--json"])
        let leapObject = try JSONSerialization.jsonObject(with: Data(jsonLeap.stdout.utf8)) as? [String: Any]
        #expect(leapObject?["sealed"] as? Bool == true && leapObject?["height"] as? Int == 2, "\(jsonLeap.stdout)")
        let jsonKey = try await CommandRunner.qbc(["key", "show", writer, "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(jsonKey.stdout.utf8)) as? [String: Any])?["encrypted"] as? Bool == false, "\(jsonKey.stdout)")
        // Found by the attack review: each of these is one line and the right status.
        let folder = try await CommandRunner.qbc(["key", "show", NodeProcess.repositoryRoot])
        #expect(folder.status == 1 && folder.stderr.contains("it is a folder, not a file"), "\(folder.stderr)")
        let shownNotAKey = try await CommandRunner.qbc(["key", "show", NodeProcess.repositoryRoot + "/README.md"])
        #expect(shownNotAKey.status == 77, "not a key file is exit 77, as for tx sign: \(shownNotAKey.status) \(shownNotAKey.stderr)")
        let before = try await NodeClient(baseURL: node.url).stats().mempool
        let noTime = try await CommandRunner.qbc(["tx", "submit", "--node", node.url, "--key", writer, "--data", "{}", "--wait", "committed", "--timeout=-1"])
        #expect(noTime.status == 64 && noTime.stderr.contains("--timeout must be 1 to 86400"), "\(noTime.status) \(noTime.stderr)")
        #expect(try await NodeClient(baseURL: node.url).stats().mempool == before, "refused before anything was sent")
        let noEvents = try await CommandRunner.qbc(["watch", "--node", node.url, "--max-events=0"])
        #expect(noEvents.status == 64 && noEvents.stderr.contains("--max-events must be at least 1"), "\(noEvents.stderr)")
        let oddChain = try await CommandRunner.qbc(["stats", "--node", node.url, "--chain", "?x=1"])
        #expect(oddChain.status == 66 && oddChain.stderr.contains("unknown_chain"), "the name stays in its path segment: \(oddChain.stderr)")

        let refused = try await CommandRunner.qbc(
            ["tx", "submit", "--node", node.url, "--key", NodeProcess.demoKey("reader"), "--data", "{}"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("403 not_authorized"))
        let unreachable = try await CommandRunner.qbc(["stats", "--node", "http://127.0.0.1:1"])
        #expect(unreachable.status == 69, "unreachable: \(unreachable.status)")
        #expect(unreachable.stderr.contains("cannot reach") && unreachable.stderr.contains("connection refused"), "\(unreachable.stderr)")
        // Exit codes tell failures apart (README, "Exit codes").
        #expect(refused.status == 65)
        let missing = try await CommandRunner.qbc(["tx", "get", String(repeating: "ab", count: 32), "--node", node.url])
        #expect(missing.status == 66, "not found: \(missing.status) \(missing.stderr)")
        let usage = try await CommandRunner.qbc(["stats", "--no-such-flag"])
        #expect(usage.status == 64)
        let notAKey = try await CommandRunner.qbc(["tx", "submit", "--node", node.url, "--key", NodeProcess.repositoryRoot + "/README.md", "--data", "{}"])
        #expect(notAKey.status == 77, "bad key: \(notAKey.status) \(notAKey.stderr)")
    }

    @Test func curlStyleFlowWithASignedFile() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(dataDirectory: dir.file("data"))
        let out = dir.file("tx.json")
        let signed = try await CommandRunner.qbc(
            ["tx", "sign", "--key", NodeProcess.demoKey("writer2"), "--chain", node.chainID, "--data", #"{"test":"test2"}"#, "--out", out])
        #expect(signed.status == 0, "\(signed.stderr)")
        let url = try #require(URL(string: node.url + "/inject"))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = try Data(contentsOf: URL(fileURLWithPath: out))
        // Without a type, Foundation (like curl) says form data: refused with a clear 415.
        let (refusal, untyped) = try await URLSession.shared.data(for: request)
        #expect((untyped as? HTTPURLResponse)?.statusCode == 415)
        #expect(String(decoding: refusal, as: UTF8.self).contains("application/json"))
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 202)
    }

    @Test func pythonClientWrittenFromTheDocsIsAccepted() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(dataDirectory: dir.file("data"))
        let script = NodeProcess.repositoryRoot + "/documentation/examples/qbc_client.py"
        let seed = try Self.seed(of: "writer1")
        let run = try await CommandRunner.run("/usr/bin/env", ["python3", script, "submit", node.url, seed, node.chainID, #"{"from":"python"}"#])
        let text = run.stdout + run.stderr
        #expect(run.status == 0, "python client failed (is PyNaCl installed? make test installs it): \(text)")
        #expect(text.contains("202"))
        #expect(text.contains("admitted"))
    }

    /// A node that cannot bind says why in one line and exits at once (it used to hang, deaf to
    /// SIGTERM, waiting for an address that never came).
    @Test func aPortInUseEndsTheNodeAtOnceWithOneLine() async throws {
        let dir = try TemporaryDirectory()
        let first = try await NodeProcess.start(dataDirectory: dir.file("a"))
        let port = String(first.port)
        let second = try #require(await onOwnThread {
            try? CommandRunner.run("/usr/bin/timeout", ["-s", "KILL", "30", CommandRunner.qbcPath, "node", "--port", port, "--data", dir.file("b")])
        })
        #expect(second.status == 1, "status \(second.status): \(second.stderr)")
        #expect(second.stderr.contains("cannot listen on 127.0.0.1:\(port): the port is in use"), "\(second.stderr)")
        let badHost = try #require(await onOwnThread {
            try? CommandRunner.run("/usr/bin/timeout", ["-s", "KILL", "30", CommandRunner.qbcPath, "node", "--host", "no.such.host.invalid", "--port", "0", "--data", dir.file("c")])
        })
        #expect(badHost.status == 1, "status \(badHost.status): \(badHost.stderr)")
        #expect(badHost.stderr.contains("cannot listen on no.such.host.invalid"), "\(badHost.stderr)")
        await first.stop()
    }

    /// SIGHUP is ignored; SIGTERM stops the node with its start and end in the log, exit 0. And
    /// settings that cannot work are refused before the data folder is touched.
    @Test func signalsAndSettingsCheckedUpFront() async throws {
        let dir = try TemporaryDirectory()
        let node = try await NodeProcess.start(dataDirectory: dir.file("a"), environment: ["QBC_LOG_LEVEL": "notice", "QBC_LOG_FORMAT": "json"])
        node.process.signal(SIGHUP)
        try await Task.sleep(for: .seconds(1))
        #expect(node.isRunning, "SIGHUP is ignored")
        #expect(await NodeClient(baseURL: node.url).answersHealth(), "and the node still serves")
        node.process.signal(SIGTERM)
        let status = await onOwnThread { node.process.waitUntilExit() }
        #expect(status == 0)
        // --log-format json: every line one object, the shutdown's start and end among them.
        let lines = try String(contentsOfFile: node.logPath, encoding: .utf8).split(separator: "\n")
        let messages = lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])?["message"]
        }
        #expect(messages.count == lines.count && !lines.isEmpty, "\(lines)")
        #expect(messages.contains { $0.hasPrefix("shutting down") } && messages.contains("stopped"), "\(messages)")
        let format = try await CommandRunner.qbc(["node", "--data", dir.file("b"), "--log-format", "xml"])
        #expect(format.status == 1 && format.stderr.contains("is not text or json"), "\(format.stderr)")

        for arguments in [["--peer", "notaurl"], ["--advertise", "ftp://somewhere"]] {
            let refused = try await CommandRunner.qbc(["node", "--data", dir.file("b")] + arguments)
            #expect(refused.status == 1 && refused.stderr.contains("is not a node address"), "\(refused.stderr)")
        }
        let bad = dir.file("bad.json")
        let config = #"{"chain":{"bangCreatorKey":"\#(NodeProcess.demoKey("admin"))","members":[{"key":"zz","roles":["writer"]}]}}"#
        try Data(config.utf8).write(to: URL(fileURLWithPath: bad))
        let badMember = try await CommandRunner.qbc(["node", "--config", bad, "--data", dir.file("b")])
        #expect(badMember.status == 1 && badMember.stderr.contains("member key zz"), "\(badMember.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("b")), "nothing is written before the settings are checked")
    }

    /// The Python client reproduces the vectors the Swift code makes (QBCWireTests compares Swift
    /// with the same files): BFT messages, and a Bang, a fork Bang and a membership change.
    @Test(arguments: [("bft-vectors", "bft"), ("chain-vectors", "chains")])
    func pythonReproducesTheVectors(_ command: String, _ file: String) async throws {
        let script = NodeProcess.repositoryRoot + "/documentation/examples/qbc_client.py"
        let run = try await CommandRunner.run("/usr/bin/env", ["python3", script, command])
        #expect(run.status == 0, "\(run.stderr)")
        let fromPython = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? NSDictionary
        let stored = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: NodeProcess.repositoryRoot + "/Tests/QBCWireTests/Vectors/\(file).json"))) as? NSDictionary
        #expect(fromPython != nil && fromPython == stored)
    }

    static func seed(of name: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: NodeProcess.demoKey(name)))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        guard let seed = object?["secretKey"] as? String else { throw CocoaError(.fileReadCorruptFile) }
        return seed
    }

    @Test func configErrorsAreOneLine() async throws {
        let dir = try TemporaryDirectory()
        let bad = dir.file("bad.json")
        try Data(#"{"node":{"prot":5000}}"#.utf8).write(to: URL(fileURLWithPath: bad))
        let unknown = try await CommandRunner.qbc(["node", "--config", bad, "--data", dir.file("d")])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown setting \"node.prot\""), "\(unknown.stderr)")
        let env = try await CommandRunner.qbc(["node", "--data", dir.file("d")], environment: ["QBC_PORT": "http"])
        #expect(env.status != 0)
        #expect(env.stderr.contains("QBC_PORT must be an integer"))
        let interval = try await CommandRunner.qbc(["node", "--data", dir.file("d")], environment: ["QBC_SYNC_INTERVAL_MS": "10"])
        #expect(interval.status != 0)
        #expect(interval.stderr.contains("QBC_SYNC_INTERVAL_MS must be an integer in 100...3600000"), "\(interval.stderr)")
        let slow = dir.file("slow.json")
        try Data(#"{"network":{"syncIntervalMilliseconds":0}}"#.utf8).write(to: URL(fileURLWithPath: slow))
        let configured = try await CommandRunner.qbc(["node", "--config", slow, "--data", dir.file("d")])
        #expect(configured.status != 0)
        #expect(configured.stderr.contains("network.syncIntervalMilliseconds must be an integer"), "\(configured.stderr)")
        let fraction = dir.file("fraction.json")
        try Data(#"{"leap":{"allowLoopback":true},"node":{"port":5000.5}}"#.utf8).write(to: URL(fileURLWithPath: fraction))
        let fractional = try await CommandRunner.qbc(["node", "--config", fraction, "--data", dir.file("d")])
        #expect(fractional.status != 0)
        #expect(fractional.stderr.contains(#""node.port" must be a whole number"#), "\(fractional.stderr)")
        let missing = try await CommandRunner.qbc(["node", "--config", dir.file("absent.json")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read config file"))
        // Flags are held to the ranges the config file and QBC_* are: --port 99999 listened on
        // 34463, and a mempool capacity of -1 refused every transaction.
        let flags: [(String, String, String)] = [
            ("--port", "99999", "0...65535"), ("--mempool-capacity", "-1", "1...5000000"), ("--mempool-capacity", "0", "1...5000000"),
            ("--leap-interval-ms", "-5", "0...86400000"), ("--leap-threshold", "0", "1...100000"), ("--difficulty", "41", "0...40"),
        ]
        for (flag, value, range) in flags {
            let refused = try await CommandRunner.qbc(["node", "--data", dir.file("d"), "\(flag)=\(value)"])
            #expect(refused.status == 1, "\(flag) \(value): \(refused.status)")
            #expect(refused.stderr.contains("\(flag) must be an integer in \(range), got \"\(value)\""), "\(flag) \(value): \(refused.stderr)")
        }
    }

    @Test func sharedConfigGivesEveryNodeTheSameChain() async throws {
        let dir = try TemporaryDirectory()
        let root = NodeProcess.repositoryRoot
        let isolated = ["QBC_PEERS": "", "QBC_ADVERTISE": ""]
        let one = try await NodeProcess.start(dataDirectory: dir.file("a"), arguments: ["--config", root + "/config/node1.json"], environment: isolated)
        let two = try await NodeProcess.start(dataDirectory: dir.file("b"), arguments: ["--config", root + "/config/node2.json"], environment: isolated)
        #expect(one.chainID == two.chainID)
    }
}
