import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import QBCHarness
import QBCCrypto
import QBCTestSupport
import Testing

/// The explorer at /ui: the routes it reads as any client sees them, and its pages in a real
/// browser (Debian's Chromium, headless, driven by Playwright for Python).
@Suite struct ExplorerTests {
    /// A node with the dev chain, a readers-only chain `vault` holding a transaction, a locked
    /// transaction, and a membership change, all committed.
    struct Scene {
        let dir: TemporaryDirectory
        let node: LocalNode
        let locked: String
        let hidden: String
        static let secret = "PLAINTEXT-ONLY-THE-READER-SEES"
        static let reader = "3033c03ceb018da65410a754f2a2175ffb447dd85db308f5e6cfa6f3c0660f83"
        static let writer2 = "2abbe9470d77d34e1fd256cfbf3a0fa17278f31e136c42cfd606815d10150d8a"

        init() async throws {
            dir = try TemporaryDirectory()
            node = try await NodeProcess.start(
                dataDirectory: dir.file("data"), arguments: ["--config", "config/dev.json", "--leap-interval-ms", "300"])
            // The vault's members are the dev chain's admin, writer, reader and this node (node1).
            _ = try await AnonymousReadTests.Vault.bang("vault", on: node, in: dir)
            let (admin, writer) = (NodeProcess.demoKey("admin"), NodeProcess.demoKey("writer1"))
            try await Self.qbc(node, ["member", "add", "--key", admin, "--member", Self.writer2, "--role", "reader"])
            locked = try await Self.qbc(node, [
                "tx", "submit", "--key", writer, "--data", #"{"secret":"\#(Self.secret)"}"#, "--lock-to", NodeProcess.demoKey("reader"),
                "--wait", "committed",
            ])
            // No --wait: waiting reads the chain, which needs a reader's proof.
            hidden = try await Self.qbc(node, ["tx", "submit", "--chain", "vault", "--key", writer, "--data", #"{"v":1}"#])
            for n in 1...3 { try await Self.qbc(node, ["tx", "submit", "--key", writer, "--data", #"{"order":\#(n)}"#, "--wait", "committed"]) }
        }

        /// Runs a qbc command against the node; its first output line (an id, for tx submit).
        @discardableResult
        static func qbc(_ node: LocalNode, _ arguments: [String]) async throws -> String {
            let run = try await CommandRunner.qbc(arguments, environment: ["QBC_NODE": node.url], directory: NodeProcess.repositoryRoot)
            guard run.status == 0 else { throw CommandFailed(command: arguments.joined(separator: " "), output: run.stderr) }
            return String(run.stdout.split(separator: "\n").first ?? "")
        }
    }

    struct CommandFailed: Error, CustomStringConvertible {
        let command: String
        let output: String
        var description: String { "qbc \(command): \(output)" }
    }

    static func get(_ url: String, headers: [String: String] = [:]) async throws -> (status: Int, headers: [AnyHashable: Any], json: Any?) {
        var request = URLRequest(url: try #require(URL(string: url)))
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.allHeaderFields, try? JSONSerialization.jsonObject(with: data))
    }

    @Test func theRoutesTheExplorerReadsAnswerAsDocumented() async throws {
        let scene = try await Scene()
        let url = scene.node.url

        let page = try await Self.get("\(url)/ui")
        #expect(page.status == 200)
        #expect((page.headers["Content-Type"] as? String)?.hasPrefix("text/html") == true)
        #expect((page.headers["Content-Security-Policy"] as? String)?.contains("script-src 'self'") == true)
        #expect(page.headers["X-Content-Type-Options"] as? String == "nosniff")
        let tag = try #require(page.headers["Etag"] as? String ?? page.headers["ETag"] as? String)
        #expect(try await Self.get("\(url)/ui", headers: ["If-None-Match": tag]).status == 304)
        #expect((try await Self.get("\(url)/ui/app.js").headers["Content-Type"] as? String)?.hasPrefix("text/javascript") == true)
        let missing = try await Self.get("\(url)/ui/secrets.txt")
        #expect(missing.status == 404)
        #expect((missing.json as? [String: Any])?["error"] as? String == "not_found")

        // Headers without transactions, paged like /chain.
        let headers = try #require(try await Self.get("\(url)/headers?from=1&limit=2").json as? [String: Any])
        let listed = try #require(headers["headers"] as? [[String: Any]])
        #expect(listed.map { $0["height"] as? Int } == [1, 2])
        #expect(headers["next"] as? Int == 3)
        #expect(listed.allSatisfy { $0["confirmations"] != nil && $0["transactions"] == nil })
        for bad in ["limit=0", "limit=1001", "from=0", "from=x"] {
            let refused = try await Self.get("\(url)/headers?\(bad)")
            #expect(refused.status == 400, "?\(bad)")
        }
        let sealed = try await Self.get("\(url)/chains/vault/headers")
        #expect(sealed.status == 401)
        #expect((sealed.json as? [String: Any])?["error"] as? String == "proof_required")

        // The membership change, with the height it committed at.
        let governance = try #require(try await Self.get("\(url)/governance").json as? [String: Any])
        let change = try #require((governance["changes"] as? [[String: Any]])?.first)
        #expect(change["member"] as? String == Scene.writer2)
        #expect(change["roles"] as? [String] == ["writer", "reader"])
        #expect((change["height"] as? Int ?? 0) >= 1)

        // A locked payload says how it is locked, and nothing of what it holds.
        let lookup = try #require(try await Self.get("\(url)/tx/\(scene.locked)").json as? [String: Any])
        let lock = try #require(lookup["lock"] as? [String: Any])
        #expect(lock["method"] as? String == "recipients")
        #expect(lock["holders"] as? [String] == [Scene.reader])
        #expect(lock["contentType"] as? String == "application/json")
        #expect(!"\(lookup)".contains(Scene.secret))

        // Search: what it names on open chains; a readers-only chain only by its name.
        func hits(_ query: String) async throws -> [[String: String]] {
            let answer = try await Self.get("\(url)/search?q=\(query)")
            return (answer.json as? [String: Any])?["results"] as? [[String: String]] ?? []
        }
        #expect(try await hits(scene.locked).map { $0["kind"] } == ["transaction"])
        #expect(try await hits("vault").map { $0["kind"] } == ["chain"])
        #expect(try await hits("2").map { $0["kind"] } == ["quant"], "a height names Quants on open chains only")
        #expect(try await hits(scene.hidden).isEmpty, "a readers-only chain's transaction is not found by strangers")
        #expect(try await hits(String(repeating: "0", count: 64)).isEmpty)
        #expect(try await Self.get("\(url)/search?q=").status == 400)
        #expect(try await Self.get("\(url)/search?q=\(String(repeating: "a", count: 129))").status == 400)

        let stats = try #require(try await Self.get("\(url)/chains").json as? [[String: Any]])
        #expect(stats.map { $0["readersOnly"] as? Bool } == [false, true])
        #expect((try await Self.get("\(url)/peers").json as? [String: Any])?["peers"] as? [Any] != nil)

        let dark = try await NodeProcess.start(dataDirectory: scene.dir.file("dark"), environment: ["QBC_EXPLORER": "0"])
        #expect(try await Self.get("\(dark.url)/ui").status == 404, "QBC_EXPLORER=0 turns the explorer off")
        #expect(try await Self.get("\(dark.url)/headers").status == 200, "the API it reads stays")
    }

    /// The pages in Chromium: no console errors; a transaction submitted meanwhile appears live;
    /// a locked payload never in clear; search; a readers-only chain shows nothing. Writes the
    /// README's screenshot to `QBC_EXPLORER_SCREENSHOT` when set.
    @Test func thePagesWorkInARealBrowser() async throws {
        try await HeavyTests.oneAtATime {
            let scene = try await Scene()
            let screenshot = ProcessInfo.processInfo.environment["QBC_EXPLORER_SCREENSHOT"] ?? scene.dir.file("explorer.png")
            let check = try await CommandRunner.run("/usr/bin/env", [
                "python3", NodeProcess.repositoryRoot + "/Tests/browser/explorer_check.py", "--node", scene.node.url,
                "--chain", scene.node.chainID, "--seed", try NodeCommandTests.seed(of: "writer1"), "--locked-tx", scene.locked,
                "--secret", Scene.secret, "--readers-only", "vault", "--screenshot", screenshot,
            ])
            #expect(check.status == 0, "the browser check failed (make test-deps installs chromium and playwright):\n\(check.stdout)\(check.stderr)")
            #expect(check.stdout.contains("ok   no console errors"))
            #expect(FileManager.default.fileExists(atPath: screenshot))
        }
    }
}
