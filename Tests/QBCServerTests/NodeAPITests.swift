import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

@Suite struct NodeAPITests {
    @Test func signInjectLeapAndReadBack() async throws {
        let t = try await TestNode()
        let writer = try Keys.load("writer1")
        let tx = signed(#"{"sensor":"a","value":1}"#, chain: t.chain, by: writer)
        let admitted = try await t.client.submit(tx)
        #expect(admitted.status == "admitted")
        #expect(admitted.id == tx.id.hex)
        #expect(try await t.client.transaction(tx.id.hex).status == "waiting")
        #expect(try await t.client.mempool().count == 1)

        let leap = try await t.client.leap()
        #expect(leap.sealed)
        let header = try #require(leap.quant)
        #expect(header.height == 1)
        #expect(header.transactionCount == 1)

        let lookup = try await t.client.transaction(tx.id.hex)
        #expect(lookup.status == "committed")
        #expect(lookup.height == 1)
        #expect(lookup.quant == header.hash)
        #expect(try lookup.transaction.transaction(maxPayloadBytes: 1024).payload == tx.payload)

        let byHeight = try await t.client.quant("1")
        let byHash = try await t.client.quant(header.hash)
        #expect(byHeight.header == byHash.header)
        #expect(byHeight.transactions.map(\.id) == [tx.id.hex])

        let stats = try await t.client.stats()
        #expect(stats.height == 1)
        #expect(stats.transactions == 1)
        #expect(stats.mempool == 0)
        #expect(stats.tipHash == header.hash)
        #expect(try await verifyWholeChain(t.client, chain: t.chain) == 1)

        let empty = try await t.client.leap()
        #expect(!empty.sealed)
        #expect(try await t.client.stats().height == 1)
    }

    @Test func badSubmissionsGetTheirStatusAndStoreNothing() async throws {
        let t = try await TestNode()
        let writer = try Keys.load("writer1")
        let inject = t.node.url + "/inject"
        let good = signed(#"{"ok":true}"#, chain: t.chain, by: writer)
        var object = try #require(JSONSerialization.jsonObject(with: Data(WireJSON.encode(TransactionJSON(good)))) as? [String: Any])

        object.removeValue(forKey: "signature")
        let unsigned = try await raw("POST", inject, body: Array(JSONSerialization.data(withJSONObject: object)))
        #expect(unsigned.status == 401)
        #expect(unsigned.error?.error == "missing_signature")
        #expect(unsigned.error?.message.contains("qbc tx submit") == true)

        object["signature"] = good.signature.hex
        object["payload"] = Base64.encode(Array(#"{"ok":false}"#.utf8))
        object.removeValue(forKey: "id")
        let tampered = try await raw("POST", inject, body: Array(JSONSerialization.data(withJSONObject: object)))
        #expect(tampered.status == 401)
        #expect(tampered.error?.error == "bad_signature")

        await expectRefusal(422, "wrong_chain") { try await t.client.submit(signed("{}", chain: .zero, by: writer)) }
        await expectRefusal(403, "not_authorized") { try await t.client.submit(signed("{}", chain: t.chain, by: SigningKey())) }
        await expectRefusal(403, "not_authorized") { try await t.client.submit(signed("{}", chain: t.chain, by: try Keys.load("reader"))) }
        let big = "\"" + String(repeating: "x", count: 70_000) + "\""
        await expectRefusal(413, "too_large") { try await t.client.submit(signed(big, chain: t.chain, by: writer)) }
        let stale = Timestamp(milliseconds: now().milliseconds - 11 * 60_000)
        await expectRefusal(422, "timestamp_too_old") { try await t.client.submit(signed("{}", chain: t.chain, by: writer, at: stale)) }
        await expectRefusal(422, "invalid_payload") { try await t.client.submit(signed("{nope", chain: t.chain, by: writer)) }

        let malformed = try await raw("POST", inject, body: Array("{not json".utf8))
        #expect(malformed.status == 400)
        #expect(malformed.error?.error == "malformed")
        object["payload"] = Base64.encode(Array(#"{"ok":true}"#.utf8))
        object["extra"] = 1
        let unknown = try await raw("POST", inject, body: Array(JSONSerialization.data(withJSONObject: object)))
        #expect(unknown.status == 400)
        #expect(unknown.error?.message.contains("unknown field \"extra\"") == true)

        // Nothing above reached the mempool or the chain.
        #expect(try await t.client.stats().mempool == 0)

        // Replays: while waiting, and after commit.
        _ = try await t.client.submit(good)
        await expectRefusal(409, "duplicate") { try await t.client.submit(good) }
        #expect(try await t.client.leap().sealed)
        await expectRefusal(409, "duplicate") { try await t.client.submit(good) }
        let stats = try await t.client.stats()
        #expect(stats.transactions == 1)
        #expect(stats.mempool == 0)
    }

    @Test func batchInjectReportsEachTransaction() async throws {
        let t = try await TestNode()
        let writer = try Keys.load("writer2")
        var batch = (0..<300).map { signed(#"{"i":\#($0)}"#, chain: t.chain, by: writer) }
        batch.append(signed("{}", chain: t.chain, by: SigningKey()))
        batch.append(batch[0])
        let result = try await t.client.submit(batch: batch)
        #expect(result.admitted == 300)
        #expect(result.rejected == 2)
        #expect(result.results[300].error == "not_authorized")
        #expect(result.results[301].error == "duplicate")
        #expect(try await t.client.leap().quant?.transactionCount == 300)
        #expect(try await verifyWholeChain(t.client, chain: t.chain) == 300)
    }

    @Test func namespacedRoutesAndUnknownChains() async throws {
        let t = try await TestNode()
        let byName = NodeClient(baseURL: t.node.url, chain: "dev")
        let byID = NodeClient(baseURL: t.node.url, chain: t.chain.hex)
        #expect(try await byName.stats().chain == t.chain.hex)
        #expect(try await byID.stats().name == "dev")
        await expectRefusal(404, "unknown_chain") { try await NodeClient(baseURL: t.node.url, chain: "nope").stats() }
        await expectRefusal(404, "not_found") { try await t.client.quant("7") }
        await expectRefusal(400, "malformed") { try await t.client.quant("xyz") }
        await expectRefusal(404, "not_found") { try await t.client.transaction(String(repeating: "ab", count: 32)) }
        let health = try await raw("GET", t.node.url + "/health")
        #expect(health.status == 200)
        let metrics = try await raw("GET", t.node.url + "/metrics")
        #expect(String(decoding: metrics.bytes, as: UTF8.self).contains("qbc_chain_height{chain=\"dev\"}"))
        // qbc_leaps_total counts automatic Leaps too.
        let automatic = try await TestNode(arguments: ["--leap-interval-ms", "100"])
        _ = try await automatic.client.submit(signed(#"{"auto":1}"#, chain: automatic.chain, by: try Keys.load("writer1")))
        try await eventually("an automatic Leap sealed it") { try await automatic.client.stats().height == 1 }
        let counted = String(decoding: try await raw("GET", automatic.node.url + "/metrics").bytes, as: UTF8.self)
        #expect(counted.contains("qbc_leaps_total{chain=\"dev\"} 1"), "\(counted)")
        let badPage = try await raw("GET", t.node.url + "/chain?limit=5000")
        #expect(badPage.status == 400)
    }

    @Test func leapByRequestNeedsLoopbackOrAnAuthorizedSignature() async throws {
        let t = try await TestNode(environment: ["QBC_ALLOW_LOOPBACK_LEAP": "false"])
        _ = try await t.client.submit(signed("{}", chain: t.chain, by: try Keys.load("writer1")))
        await expectRefusal(403, "not_authorized") { try await t.client.leap() }
        await expectRefusal(403, "not_authorized") {
            try await t.client.leap(signedBy: try Keys.load("writer1"), chain: t.chain, now: now())
        }
        let old = Timestamp(milliseconds: now().milliseconds - 120_000)
        await expectRefusal(422, "timestamp_too_old") {
            try await t.client.leap(signedBy: try Keys.load("admin"), chain: t.chain, now: old)
        }
        let forged = LeapRequestJSON(LeapRequest(
            chain: t.chain, signer: try Keys.load("admin").publicKey, timestamp: now(), signature: Signature(unchecked: [UInt8](repeating: 1, count: 64))))
        let refused = try await raw("POST", t.node.url + "/leap", body: WireJSON.encode(forged))
        #expect(refused.status == 401)
        #expect(try await t.client.stats().height == 0)
        let sealed = try await t.client.leap(signedBy: try Keys.load("admin"), chain: t.chain, now: now())
        #expect(sealed.sealed)
    }

    @Test func automaticLeapsSealWaitingTransactions() async throws {
        let t = try await TestNode(arguments: ["--leap-interval-ms", "200"])
        _ = try await t.client.submit(signed("{}", chain: t.chain, by: try Keys.load("writer1")))
        var height: UInt64 = 0
        for _ in 0..<100 where height == 0 {
            try await Task.sleep(for: .milliseconds(100))
            height = try await t.client.stats().height
        }
        #expect(height == 1)
    }

    @Test func aLeapThresholdSealsAsSoonAsEnoughTransactionsWait() async throws {
        let t = try await TestNode(arguments: ["--leap-interval-ms", "60000", "--leap-threshold", "10"])
        let writer = try Keys.load("writer1")
        _ = try await t.client.submit(batch: (0..<3).map { signed(#"{"few":\#($0)}"#, chain: t.chain, by: writer) })
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await t.client.stats().height == 0, "below the threshold and before the interval: nothing sealed")
        _ = try await t.client.submit(batch: (0..<7).map { signed(#"{"more":\#($0)}"#, chain: t.chain, by: writer) })
        try await eventually("ten waiting transactions were sealed") { try await t.client.stats().transactions == 10 }
    }
}
