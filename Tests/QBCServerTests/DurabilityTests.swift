import Foundation
import GRDB
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

@Suite struct DurabilityTests {
    @Test func restartKeepsChainAndMempool() async throws {
        let dir = try TemporaryDirectory()
        let writer = try Keys.load("writer1")
        var first: TestNode? = try await TestNode(dir: dir)
        let t = try #require(first)
        for i in 0..<5 { _ = try await t.client.submit(signed(#"{"i":\#(i)}"#, chain: t.chain, by: writer)) }
        #expect(try await t.client.leap().sealed)
        let waiting = signed(#"{"later":true}"#, chain: t.chain, by: writer)
        _ = try await t.client.submit(waiting)
        let before = try await t.client.stats()
        await t.node.stop()
        first = nil

        let again = try await TestNode(dir: dir)
        #expect(again.chain == t.chain)
        let after = try await again.client.stats()
        #expect(after.height == before.height)
        #expect(after.tipHash == before.tipHash)
        #expect(after.transactions == 5)
        #expect(after.mempool == 1, "the mempool survives a restart")
        #expect(try await again.client.transaction(waiting.id.hex).status == "waiting")
        #expect(try await again.client.leap().sealed)
        #expect(try await verifyWholeChain(again.client, chain: again.chain) == 6)
    }

    @Test func twoNodesCannotShareADataFolder() async throws {
        let t = try await TestNode()
        let second = try await CommandRunner.qbc(["node", "--port", "0", "--data", t.dir.file("data")])
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use by another qbc node"), "\(second.stderr)")
        #expect(try await t.client.stats().height == 0)
    }

    @Test func sigkillUnderLoadLosesNothingCommitted() async throws {
        let dir = try TemporaryDirectory()
        let writer = try Keys.load("writer2")
        var first: TestNode? = try await TestNode(dir: dir)
        let t = try #require(first)
        // Load: batches admitted while Leaps commit; remember every Quant the node confirmed. Both
        // go on until eight Quants are sealed (or a minute passes): with a fixed number of
        // batches, a starved Leap task could find them all gone into one Quant.
        let sealed = Locked(0)
        let deadline = Date().addingTimeInterval(60)
        let confirmed = try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask {
                var round = 0
                while sealed.value < 8, Date() < deadline {
                    let batch = (0..<100).map { signed(#"{"r":\#(round),"i":\#($0)}"#, chain: t.chain, by: writer) }
                    _ = try? await t.client.submit(batch: batch)
                    round += 1
                }
                return []
            }
            group.addTask {
                var hashes = [String]()
                while hashes.count < 8, Date() < deadline {
                    if let quant = try? await t.client.leap().quant {
                        hashes.append(quant.hash)
                        sealed.value = hashes.count
                    } else {
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
                return hashes
            }
            var all = [String]()
            for try await hashes in group { all += hashes }
            return all
        }
        #expect(confirmed.count == 8, "the node sealed under load")
        // Keep submitting and leaping while the kill lands.
        let inFlight = Task {
            for round in 0..<1000 {
                let batch = (0..<50).map { signed(#"{"late":\#(round),"i":\#($0)}"#, chain: t.chain, by: writer) }
                _ = try? await t.client.submit(batch: batch)
                _ = try? await t.client.leap()
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        await t.node.kill()
        inFlight.cancel()
        first = nil

        let again = try await TestNode(dir: dir)
        for hash in confirmed { #expect(try await again.client.quant(hash).header.hash == hash) }
        let stats = try await again.client.stats()
        #expect(stats.height >= UInt64(confirmed.count))
        let seen = try await verifyWholeChain(again.client, chain: again.chain)
        #expect(Int64(seen) == stats.transactions)
    }
}

/// Data written before 0.2 could hold a mempool row for a committed transaction; every Leap then
/// failed with `storage_error` and the chain halted. Such a node repairs its data, says so once,
/// and seals again.
@Suite struct StaleMempoolRepairTests {
    @Test func aNodeWithStaleRowsFromAnEarlierVersionStartsAndSeals() async throws {
        let dir = try TemporaryDirectory()
        let writer = try Keys.load("writer1")
        let committed: Transaction
        do {
            let t = try await TestNode(dir: dir)
            committed = signed(#"{"before":true}"#, chain: t.chain, by: writer)
            _ = try await t.client.submit(committed)
            #expect(try await t.client.leap().sealed)
            await t.node.stop()
        }
        try EarlierLayout.rewind(directory: dir.file("data"), addingWaiting: [committed])
        let t = try await TestNode(dir: dir)
        let log = try String(contentsOfFile: t.node.logPath, encoding: .utf8)
        #expect(log.components(separatedBy: "removed committed transactions left in the stored mempool").count == 2, "said once: \(log)")
        #expect(log.contains("count=1"))
        #expect(try await t.client.stats().mempool == 0)
        _ = try await t.client.submit(signed(#"{"after":true}"#, chain: t.chain, by: writer))
        let leap = try await t.client.leap()
        #expect(leap.sealed, "\(leap.message)")
        #expect(try await t.client.stats().height == 2)
        #expect(try await verifyWholeChain(t.client, chain: t.chain) == 2)
    }
}
