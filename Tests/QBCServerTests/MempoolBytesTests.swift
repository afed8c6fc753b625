import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// A mempool capped only by count let a writer fill the node's memory with large transactions
/// (200,000 of 64 KiB is 13 GB; the attack review measured 914 MB within seconds). Every chain's
/// mempool together is now held to `node.mempoolBytes`; what was admitted is never lost to it.
@Suite struct MempoolBytesTests {
    @Test func largeTransactionsAreRefusedPastTheNodesMempoolBytesAndNothingAdmittedIsLost() async throws {
        let dir = try TemporaryDirectory()
        let writer = try Keys.load("writer1")
        var first: TestNode? = try await TestNode(environment: ["QBC_MEMPOOL_BYTES": "\(2 << 20)"], dir: dir)
        guard let t = first else { return }
        let payload = [UInt8](repeating: UInt8(ascii: "q"), count: 60_000)
        func batch(_ count: Int) -> [Transaction] {
            (0..<count).map { _ in signed(bytes: payload, chain: t.chain, by: writer, contentType: "application/octet-stream") }
        }
        let sent = batch(40)
        let fits = (2 << 20) / sent[0].encodedSize
        let answer = try await t.client.submit(batch: sent)
        #expect(answer.admitted == fits, "2 MiB holds \(fits) of \(sent[0].encodedSize) bytes")
        let refused = answer.results.filter { $0.status == "rejected" }
        #expect(refused.count == 40 - fits && refused.allSatisfy { $0.error == "mempool_full" }, "\(refused.first.map { "\($0)" } ?? "")")
        #expect(refused.first?.message?.contains("node.mempoolBytes") == true)
        #expect(try await t.client.stats().mempool == fits)
        await t.node.stop()
        first = nil

        // Restarted with half the room, it keeps every transaction it admitted, and refuses more.
        let again = try await TestNode(environment: ["QBC_MEMPOOL_BYTES": "\(1 << 20)"], dir: dir)
        #expect(try await again.client.stats().mempool == fits, "nothing admitted was lost")
        let more = [signed(bytes: payload, chain: again.chain, by: writer, contentType: "application/octet-stream")]
        #expect(try await again.client.submit(batch: more).results.first?.error == "mempool_full")
        // A Leap makes room.
        #expect(try await again.client.leap().sealed)
        #expect(try await again.client.stats().transactions == Int64(fits))
        #expect(try await again.client.submit(batch: more).admitted == 1)
    }
}
