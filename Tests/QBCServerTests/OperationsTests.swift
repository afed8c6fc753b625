import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCNode
import QBCTestSupport
import QBCWire
import Testing

/// What an operator watches and relies on: metrics, readiness, CORS (configuration.md, operations.md).
@Suite(.serialized) struct OperationsTests {
    func metrics(_ url: String) async throws -> String {
        String(decoding: try await raw("GET", url + "/metrics").bytes, as: UTF8.self)
    }

    @Test func metricsCountBySourceAndReasonWithRouteLatencies() async throws {
        // No automatic Leaps: the transactions reach the second node by gossip, not in a Quant.
        let net = try await TestNetwork(count: 2, extra: ["--leap-interval-ms", "0"])
        let (a, b) = (net.nodes[0].url, net.nodes[1].url)
        try await eventually("the nodes know each other") { try await net.client(1).stats().peers == 1 }
        let writer = try Keys.load("writer1")
        let batch = (0..<5).map { signed(#"{"m":\#($0)}"#, chain: net.chain, by: writer) }
        #expect(try await net.client(0).submit(batch: batch).admitted == 5)
        var unsigned = try #require(JSONSerialization.jsonObject(with: Data(WireJSON.encode(TransactionJSON(batch[0])))) as? [String: Any])
        unsigned.removeValue(forKey: "signature")
        #expect(try await raw("POST", a + "/inject", body: Array(JSONSerialization.data(withJSONObject: unsigned))).status == 401)
        #expect(try await raw("POST", a + "/inject", body: Array(#"{"x":1}"#.utf8)).status == 400)
        #expect(try await raw("GET", a + "/no/such/route").status == 404)
        #expect(try await raw("PROPFIND", a + "/stats").status == 405)

        try await eventually("the second node admitted them by gossip") {
            try await metrics(b).contains(#"qbc_transactions_admitted_total{chain="dev",source="gossip"} 5"#)
        }
        let first = try await metrics(a)
        for line in [
            #"qbc_transactions_admitted_total{chain="dev",source="client"} 5"#,
            #"qbc_transactions_rejected_total{chain="dev",source="client",reason="missing_signature"} 1"#,
            #"qbc_transactions_rejected_total{chain="dev",source="client",reason="malformed"} 1"#,
            #"qbc_http_requests_total{route="/inject",method="POST",status="200"} 1"#,
            #"qbc_http_requests_total{route="/inject",method="POST",status="401"} 1"#,
            #"qbc_http_requests_total{route="NotFound",method="GET",status="404"} 1"#,
            #"qbc_http_request_duration_seconds_count{route="/inject",method="POST",status="401"} 1"#,
            #"qbc_mempool_transactions{chain="dev"} 5"#,
            #"qbc_peers{state="reachable"} 1"#,
            #"qbc_build_info{version=""#,
        ] {
            #expect(first.contains(line), "\(line) missing from /metrics")
        }
        #expect(first.contains(#"method="other",status="405""#) && !first.contains("PROPFIND"), "methods beyond the API's are one label")
        #expect(first.contains("process_resident_memory_bytes "))
        #expect(first.contains("process_open_fds "))
        #expect(!first.contains(#"qbc_mempool_bytes{chain="dev"} 0"#), "five transactions wait: their bytes are counted")

        #expect(try await net.client(0).leap().quant?.transactionCount == 5)
        let after = try await metrics(a)
        #expect(after.contains(#"qbc_leaps_total{chain="dev"} 1"#))
        #expect(after.contains(#"qbc_leap_duration_seconds_count{chain="dev"} 1"#))
        #expect(after.contains(#"qbc_mempool_bytes{chain="dev"} 0"#))
        try await eventually("the second node committed the Quant") { try await net.client(1).stats().height == 1 }
        try await eventually("and has no lag") { try await metrics(b).contains(#"qbc_sync_lag{chain="dev"} 0"#) }
    }

    @Test func readyWhenCurrentWithPeersNotBeforeAnyAnswered() async throws {
        let alone = try await TestNode()
        let ready = try await raw("GET", alone.node.url + "/ready")
        #expect(ready.status == 200, "a node without peers has nothing to be behind")
        // A configured peer that never answers: the node cannot know it is current.
        let silent = try SilentListener()
        defer { silent.stop() }
        let cutOff = try await TestNode(arguments: ["--peer", "http://127.0.0.1:\(silent.port)"])
        for _ in 0..<3 {
            let answer = try await raw("GET", cutOff.node.url + "/ready")
            #expect(answer.status == 503)
            #expect(answer.error?.error == "not_ready")
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(try await raw("GET", cutOff.node.url + "/health").status == 200, "liveness is not readiness")
        // With a live peer of its chain, ready once a round of sync has compared tips.
        let net = try await TestNetwork(count: 2)
        try await eventually("the node with a live peer becomes ready") { try await raw("GET", net.nodes[1].url + "/ready").status == 200 }
        // Its only peer gone, it can no longer tell whether it is current.
        await net.nodes[0].stop()
        try await eventually("the node whose peer stopped is not ready") {
            let answer = try await raw("GET", net.nodes[1].url + "/ready")
            return answer.status == 503 && answer.error?.message.contains("no peer answered") == true
        }
        #expect(try await metrics(net.nodes[1].url).contains(#"qbc_sync_lag{chain="dev"} -1"#))
    }

    @Test func lagCountsOnlyBranchesForkChoicePrefers() {
        let ours = PeerTip(height: 10, hash: Hash.blake2b([1]), cumulativeWork: 1000)
        #expect(NetworkService.lag(of: ours, behind: PeerTip(height: 14, hash: Hash.blake2b([2]), cumulativeWork: 1400)) == 4)
        // Longer but lighter: not behind.
        #expect(NetworkService.lag(of: ours, behind: PeerTip(height: 30, hash: Hash.blake2b([3]), cumulativeWork: 900)) == 0)
        // Shorter but heavier: behind, by at least one.
        #expect(NetworkService.lag(of: ours, behind: PeerTip(height: 8, hash: Hash.blake2b([4]), cumulativeWork: 5000)) == 1)
        #expect(NetworkService.lag(of: ours, behind: ours) == 0)
    }

    @Test func corsIsOffByDefaultAndAnswersOnlyConfiguredOrigins() async throws {
        let plain = try await TestNode()
        let origin = ("Origin", "https://app.example")
        let noCORS = try await raw("GET", plain.node.url + "/stats", headers: [origin])
        #expect(noCORS.status == 200)
        let preflightOff = try await raw("OPTIONS", plain.node.url + "/inject", headers: [origin, ("Access-Control-Request-Method", "POST")])
        #expect(preflightOff.status == 405)

        let t = try await TestNode(arguments: ["--cors-origin", "https://app.example"])
        let preflight = try await rawWithHeaders(
            "OPTIONS", t.node.url + "/inject", headers: [origin, ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "content-type")])
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == "https://app.example")
        #expect(preflight.headers["access-control-allow-methods"]?.contains("POST") == true)
        #expect(preflight.headers["access-control-allow-headers"]?.contains("Content-Type") == true)
        // Every header a read proof uses, anonymous ones included (a page could not send those).
        for header in ["QBC-Reader", "QBC-Nonce", "QBC-Proof", "QBC-Key-Set", "QBC-Anonymous-Proof", "Last-Event-ID"] {
            #expect(preflight.headers["access-control-allow-headers"]?.contains(header) == true, "\(header)")
        }
        let read = try await rawWithHeaders("GET", t.node.url + "/stats", headers: [origin])
        #expect(read.headers["access-control-allow-origin"] == "https://app.example")
        let refusal = try await rawWithHeaders("GET", t.node.url + "/tx/zz", headers: [origin])
        #expect(refusal.status == 400)
        #expect(refusal.headers["access-control-allow-origin"] == "https://app.example", "a page must see refusals too")
        let stranger = try await rawWithHeaders("GET", t.node.url + "/stats", headers: [("Origin", "https://evil.example")])
        #expect(stranger.status == 200)
        #expect(stranger.headers["access-control-allow-origin"] == nil)
        #expect(stranger.headers["vary"] == "Origin", "caches must not hand one origin's answer to another")
        #expect(plainHeaders(noCORS: try await rawWithHeaders("GET", plain.node.url + "/stats", headers: [origin])))
    }

    private func plainHeaders(noCORS answer: (status: Int, headers: [String: String], bytes: [UInt8])) -> Bool {
        answer.headers["access-control-allow-origin"] == nil
    }
}
