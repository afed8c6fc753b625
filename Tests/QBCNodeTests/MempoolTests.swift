import QBCCore
import QBCCrypto
import QBCSQLiteStore
@testable import QBCNode
import QBCTestSupport
import Testing

@Suite struct MempoolTests {
    @Test func sealsInTimestampThenIDOrderWithinLimits() {
        var chain = ChainBuilder()
        let txs = (0..<50).map { chain.transaction("\($0)") }.shuffled()
        var pool = Mempool(capacity: 100)
        let reserved = txs.map { pool.reserve($0) }
        #expect(reserved.allSatisfy { $0 })
        let again = pool.reserve(txs[0])
        #expect(!again)
        let none = pool.takeForSealing(limits: .standard)
        #expect(none.isEmpty, "pending transactions are not sealable")
        #expect(pool.sealableCount == 0)
        pool.confirm(txs.map(\.id))
        #expect(pool.sealableCount == 50)
        var limits = QuantLimits.standard
        limits.maxTransactions = 20
        let first = pool.takeForSealing(limits: limits)
        #expect(first.count == 20)
        // The order every node seals in: timestamp, then the id's bytes (not the mempool's keys).
        let expected = txs.sorted { $0.timestamp != $1.timestamp ? $0.timestamp < $1.timestamp : $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
        #expect(first.map(\.id) == expected.prefix(20).map(\.id))
        pool.release(first.prefix(5).map(\.id))
        let second = pool.takeForSealing(limits: limits)
        #expect(second.map(\.id) == expected.prefix(5).map(\.id) + expected[20..<35].map(\.id))
        pool.remove(second.map(\.id))
        // 15 of the first Leap are still being sealed; 15 are ready.
        #expect(pool.count == 30)
        #expect(pool.sealableCount == 15)
        limits.maxBytes = expected[35].encodedSize
        let one = pool.takeForSealing(limits: limits)
        #expect(one.map(\.id) == [expected[35].id], "the byte limit bounds a Quant")
    }

    /// A second reserve of a waiting transaction changes nothing, whatever its state: pending,
    /// ready or being sealed (reserve inserts first and puts back what was there).
    @Test func reservingAgainLeavesEveryStateAsItWas() {
        var chain = ChainBuilder()
        let txs = (0..<3).map { chain.transaction("\($0)") }
        var pool = Mempool(capacity: 10)
        let reserved = txs.map { pool.reserve($0) }
        #expect(reserved.allSatisfy { $0 })
        pool.confirm(txs[1...].map(\.id))
        var limits = QuantLimits.standard
        limits.maxTransactions = 1
        let sealing = pool.takeForSealing(limits: limits)
        #expect(sealing.count == 1)
        let (count, bytes, sealable) = (pool.count, pool.bytes, pool.sealableCount)
        let again = txs.map { pool.reserve($0) }
        #expect(!again.contains(true), "already waiting")
        #expect(pool.count == count && pool.bytes == bytes && pool.sealableCount == sealable)
        // Pending stays pending, ready stays ready, sealing stays sealing.
        let ready = pool.takeForSealing(limits: .standard)
        #expect(ready.map(\.id) == txs[1...].map(\.id).filter { $0 != sealing[0].id })
        pool.release(sealing.map(\.id))
        let released = pool.takeForSealing(limits: .standard)
        #expect(released.map(\.id) == sealing.map(\.id))
        pool.confirm([txs[0].id])
        let confirmed = pool.takeForSealing(limits: .standard)
        #expect(confirmed.map(\.id) == [txs[0].id])
    }
}
