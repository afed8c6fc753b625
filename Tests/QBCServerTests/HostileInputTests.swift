import Foundation
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
