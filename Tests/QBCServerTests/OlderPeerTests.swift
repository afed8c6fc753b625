import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// A node before 0.4 takes only JSON on its peer routes and answers 415 to any other body. Here
/// a small HTTP server stands in for one (Python's standard library, as the suite's other
/// outside clients), recording what it is sent; the pusher must send binary, meet the 415, and
/// send the same pushes again as JSON (decisions D71).
@Suite struct OlderPeerTests {
    static let server = #"""
        import http.server, json, sys
        log = open(sys.argv[1], "a", buffering=1)
        class Older(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                kind = self.headers.get("Content-Type", "")
                log.write("%s %s %d\n" % (self.path.rsplit("/", 1)[-1], kind, len(body)))
                if kind != "application/json":
                    self.answer(415, {"error": "unsupported_media_type", "message": "send application/json"})
                elif self.path.endswith("/transactions"):
                    results = [{"id": t["id"], "status": "admitted"} for t in json.loads(body)]
                    self.answer(200, {"admitted": len(results), "rejected": 0, "results": results})
                else:
                    quant = json.loads(body)
                    self.answer(200, {"status": "committed", "message": "%d transactions" % len(quant["transactions"])})
            def answer(self, status, value):
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Older)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    @Test func pushesToANodeBefore04FallBackToJSON() async throws {
        let dir = try TemporaryDirectory()
        let server = try await StandInServer.start(Self.server, in: dir, arguments: [dir.file("requests.log")])
        defer { server.stop() }
        let client = NodeClient(baseURL: server.url, peerKey: TestKeys.key(3), clock: { Timestamp.now() })

        var chain = ChainBuilder()
        let txs = (0..<3).map { chain.transaction("t\($0)") }
        try await client.peerPush(transactions: txs, binary: Transaction.encodeBatch(txs), chain: chain.bang.id)
        let quant = chain.quant(txs, parent: nil)
        let binary = QuantPage.encode([QuantPage.Part(quant)])
        let answer = try await client.peerPush(quant: quant, binary: binary)
        #expect(answer.status == "committed")
        #expect(answer.message == "3 transactions", "the JSON push carried the Quant's transactions")

        let requests = try String(contentsOfFile: dir.file("requests.log"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(requests.map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == [
            "transactions \(Transaction.batchContentType)", "transactions application/json",
            "quants \(QuantPage.contentType)", "quants application/json",
        ], "\(requests)")
    }
}
