import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// What a peer answers is bounded in time, bytes and JSON values (decisions D75). A stand-in
/// server (Python's standard library, as in `OlderPeerTests`) plays a member that answers the
/// peer routes slowly, hugely or with JSON of many values; before D75 a trickled answer held a
/// sync round for as long as the peer liked and a 240 MiB JSON page took 5.8 GB. An answer or an
/// event stream that breaks off is a `NodeClientError` too (it was AsyncHTTPClient's own error).
@Suite struct PeerAnswerTests {
    static let server = #"""
        import http.server, socketserver, sys, time
        class Hostile(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_GET(self):
                route = self.path.split("?")[0].rsplit("/", 1)[-1]
                if route == "tip":
                    # The head at once, then a byte every half second: a valid tip, slowly.
                    body = b'{"height":1,"hash":"' + b"00" * 32 + b'","cumulativeWork":1}' + b" " * 1000
                    self.head(len(body))
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.5)
                elif route == "stats":
                    # A fifth of the promised body, then the connection closes.
                    self.head(1000)
                    self.wfile.write(b'{"height":1' + b" " * 189)
                    self.close_connection = True
                elif route == "events":
                    # One event of a chunked stream, then the connection closes without its end.
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    event = b"id: 1\ndata: {}\n\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    body = {
                        # 2.5 million JSON values in 5 MiB, 3 million in 6 MiB.
                        "headers": b'{"headers":[' + b"0," * 2_500_000 + b'0]}',
                        "quants": b'{"quants":[' + b"0," * 3_000_000 + b'0]}',
                        # 17 MiB.
                        "bang": b'{"bang":"' + b"0" * (17 << 20) + b'"}',
                    }[route]
                    self.head(len(body))
                    self.wfile.write(body)
            def head(self, length):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.flush()
            def log_message(self, *args):
                pass
        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
        server = Server(("127.0.0.1", 0), Hostile)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    @Test func slowHugeAndHeavyAnswersEndWithinTheirBounds() async throws {
        let dir = try TemporaryDirectory()
        let server = try await StandInServer.start(Self.server, in: dir)
        defer { server.stop() }
        // As the node's transport asks a peer for its tip: with a 2 s timeout.
        let client = NodeClient(baseURL: server.url, timeoutSeconds: 2, peerKey: TestKeys.key(3), clock: { Timestamp.now() })
        let chain = ChainBuilder().bang.id

        func failure(_ call: () async throws -> Void) async -> (NodeClientError?, Double) {
            let start = Date()
            do {
                try await call()
                return (nil, Date().timeIntervalSince(start))
            } catch {
                return (error as? NodeClientError, Date().timeIntervalSince(start))
            }
        }
        let (slow, slowSeconds) = await failure { _ = try await client.peerTip(chain: chain) }
        #expect(slow?.code == "timeout", "\(String(describing: slow))")
        // The trickle would take 520 s; the bound is loose because the suite loads both cores.
        #expect(slowSeconds < 60, "the tip's 2 s covers its body: \(slowSeconds) s")

        // Generous timeouts from here: only the bounds on bytes and values may end these calls.
        let patient = NodeClient(baseURL: server.url, timeoutSeconds: 60, peerKey: TestKeys.key(3), clock: { Timestamp.now() })
        let (heavy, _) = await failure { _ = try await patient.peerHeaders(chain: chain, from: 1, limit: 10) }
        #expect(heavy?.code == "bad_response")
        #expect(heavy?.message.contains("holds 2500004 JSON values; at most 2000000 are read") == true, "\(String(describing: heavy))")
        let (page, _) = await failure { _ = try await patient.peerQuantPage(chain: chain, from: 1, limit: 10, limits: .standard) }
        #expect(page?.code == "bad_response")
        #expect(page?.message.contains("holds 3000004 JSON values; at most 2500000 are read") == true, "\(String(describing: page))")
        let (huge, _) = await failure { _ = try await patient.peerBang(chain: chain) }
        #expect(huge?.code == "too_large", "any other answer of a peer is bounded too: \(String(describing: huge))")
        // An answer that breaks off is the client's error like any other, not the HTTP library's.
        let (broken, _) = await failure { _ = try await patient.stats() }
        #expect(broken?.code == "unreachable" && broken?.message.contains("broke off its answer") == true, "\(String(describing: broken))")
        // Without a status, as when the node cannot be reached at all: `qbc watch` reconnects then.
        #expect(broken?.status == nil)
        let (cut, _) = await failure { for try await _ in patient.events() {} }
        #expect(cut?.code == "unreachable" && cut?.message.contains("broke off its event stream") == true, "\(String(describing: cut))")
        #expect(cut?.status == nil)
    }
}
