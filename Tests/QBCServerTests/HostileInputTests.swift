import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Requests a stranger can send without any key: each is refused with a clear error and the node
/// stays up and unchanged.
@Suite struct HostileInputTests {
    /// Regression: a 172-byte binary batch whose one transaction is dated 2^64 - 1 (random sender,
    /// zero signature) trapped the node on arithmetic overflow and killed the process.
    @Test func aBinaryBatchDatedAtTheEndOfTimeIsRefusedAndTheNodeStaysUp() async throws {
        let t = try TestNode()
        let body = Transaction.Body(
            chain: t.chain, sender: SigningKey().publicKey, nonce: .random(), timestamp: Timestamp(milliseconds: .max),
            contentType: "a", payload: [])
        let batch = Transaction.encodeBatch([Transaction(body: body, signature: Signature(unchecked: [UInt8](repeating: 0, count: 64)))])
        #expect(batch.count == 172)
        let answer = try await raw(
            "POST", t.node.url + "/inject", body: batch, headers: [("Content-Type", Transaction.batchContentType)])
        #expect(answer.status == 200)
        let verdicts = try JSONDecoder().decode(InjectBatchJSON.self, from: Data(answer.bytes))
        #expect(verdicts.results.map(\.error) == ["timestamp_in_future"])
        #expect(t.node.process.isRunning)
        #expect(try await t.client.stats().mempool == 0)
    }
}

/// Every refusal carries the JSON error body; methods a route does not take get 405 with Allow.
@Suite struct HTTPEdgeTests {
    @Test func unknownPathsAndMethodsGetJSONErrors() async throws {
        let t = try TestNode()
        let unknown = try await raw("GET", t.node.url + "/no/such/route")
        #expect(unknown.status == 404)
        #expect(unknown.error?.error == "not_found")
        for (method, path, allowed) in [
            ("PUT", "/inject", "POST"), ("DELETE", "/stats", "GET, HEAD"), ("PATCH", "/chain", "GET, HEAD"),
            ("OPTIONS", "/tx/\(String(repeating: "0", count: 64))", "GET, HEAD"), ("TRACE", "/leap", "GET, POST, HEAD"),
            ("DELETE", "/chains/\(t.chain.hex)/inject", "POST"),
        ] {
            var request = HTTPClientRequest(url: t.node.url + path)
            request.method = .init(rawValue: method)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let bytes = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            #expect(response.status.code == 405, "\(method) \(path)")
            #expect(response.headers["Allow"].first == allowed, "\(method) \(path): \(response.headers["Allow"])")
            #expect((try? JSONDecoder().decode(ErrorJSON.self, from: Data(bytes)))?.error == "method_not_allowed", "\(method) \(path)")
        }
        var head = HTTPClientRequest(url: t.node.url + "/stats")
        head.method = .HEAD
        let response = try await HTTPClient.shared.execute(head, timeout: .seconds(10))
        #expect(response.status == .ok)
        #expect(try await response.body.collect(upTo: 1 << 20).readableBytes == 0)
    }

    @Test func bodiesMustBeOfATypeTheRouteTakes() async throws {
        let t = try TestNode()
        let tx = signed(#"{"typed":1}"#, chain: t.chain, by: try Keys.load("writer1"))
        let batch = Transaction.encodeBatch([tx])
        let lookalike = try await raw("POST", t.node.url + "/inject", body: batch, headers: [("Content-Type", Transaction.batchContentType + "XYZ")])
        #expect(lookalike.status == 415)
        #expect(lookalike.error?.error == "unsupported_media_type")
        let text = try await raw("POST", t.node.url + "/inject", body: WireJSON.encode(TransactionJSON(tx)), headers: [("Content-Type", "text/plain")])
        #expect(text.status == 415)
        #expect(try await t.client.stats().mempool == 0, "nothing was admitted")
        let withParameter = try await raw(
            "POST", t.node.url + "/inject", body: batch, headers: [("Content-Type", Transaction.batchContentType + "; version=1")])
        #expect(withParameter.status == 200)
        #expect(try await t.client.stats().mempool == 1)
    }

    /// openapi.yaml: an array gets a verdict per element; one broken element refuses only itself.
    @Test func aJSONArrayWithOneMalformedElementGetsAVerdictPerElement() async throws {
        let t = try TestNode()
        let writer = try Keys.load("writer1")
        let good = (0..<2).map { signed(#"{"n":\#($0)}"#, chain: t.chain, by: writer) }
        var elements = good.map { String(decoding: WireJSON.encode(TransactionJSON($0)), as: UTF8.self) }
        elements.insert(#"{"chain":"zz","nonsense":true}"#, at: 1)
        let answer = try await raw("POST", t.node.url + "/inject", body: Array("[\(elements.joined(separator: ","))]".utf8))
        #expect(answer.status == 200)
        let verdicts = try JSONDecoder().decode(InjectBatchJSON.self, from: Data(answer.bytes))
        #expect(verdicts.results.map(\.status) == ["admitted", "rejected", "admitted"])
        #expect(verdicts.results[1].error == "malformed")
        let notJSON = try await raw("POST", t.node.url + "/inject", body: Array("[{".utf8))
        #expect(notJSON.status == 400, "a body that is not JSON is refused whole")
    }
}
