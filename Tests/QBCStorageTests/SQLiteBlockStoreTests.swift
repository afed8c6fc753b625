import QBCCore
import QBCCrypto
import QBCStorage
import QBCTestSupport
import Testing

@Suite struct SQLiteBlockStoreTests {
    @Test func commitAndReadBack() throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try SQLiteBlockStore(directory: dir.path)
        try store.create(chain.bang)
        try store.create(chain.bang)
        #expect(try store.bangs().map(\.id) == [chain.bang.id])
        #expect(try store.tip(chain: chain.bang.id) == nil)

        let txs = (0..<5).map { chain.transaction(#"{"n":\#($0)}"#) }
        try store.addToMempool(txs)
        #expect(try store.mempool(chain: chain.bang.id, limit: 100, limits: .standard).map(\.id) == txs.map(\.id))
        let first = chain.quant(Array(txs.prefix(3)), parent: nil)
        let stored = try store.commit(first, parent: nil)
        #expect(stored.cumulativeTransactions == 3)
        #expect(stored.cumulativeWork == 16)
        let second = chain.quant(Array(txs.suffix(2)), parent: (1, first.hash))
        let tip = try store.commit(second, parent: stored)
        #expect(tip.cumulativeTransactions == 5)
        #expect(tip.cumulativeWork == 32)

        #expect(try store.tip(chain: chain.bang.id)?.hash == second.hash)
        #expect(try store.header(chain: chain.bang.id, height: 1)?.hash == first.hash)
        #expect(try store.height(ofQuant: second.hash)?.height == 2)
        #expect(try store.headers(chain: chain.bang.id, from: 1, limit: 10).map(\.hash) == [first.hash, second.hash])
        #expect(try store.transactions(chain: chain.bang.id, height: 1, limits: .standard).map(\.id) == txs.prefix(3).map(\.id))
        let found = try #require(try store.transaction(id: txs[4].id, limits: .standard))
        #expect(found.height == 2)
        #expect(found.position == 1)
        #expect(found.quantHash == second.hash)
        #expect(found.transaction.hasValidSignature)
        #expect(try store.committed(txs.map(\.id) + [Hash.zero]) == Set(txs.map(\.id)))
        #expect(try store.mempool(chain: chain.bang.id, limit: 100, limits: .standard).isEmpty, "committed transactions leave the mempool")
    }

    @Test func commitRefusesAGapOrAReplayedHeight() throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try SQLiteBlockStore(directory: dir.path)
        try store.create(chain.bang)
        let first = chain.quant([chain.transaction("1")], parent: nil)
        let stored = try store.commit(first, parent: nil)
        #expect(throws: StorageError.self) { try store.commit(first, parent: nil) }
        let gap = chain.quant([chain.transaction("2")], parent: (5, first.hash))
        #expect(throws: StorageError.self) { try store.commit(gap, parent: stored) }
        #expect(try store.tip(chain: chain.bang.id)?.header.height == 1)
    }

    @Test func reopeningKeepsEverythingAndTheLockIsExclusive() throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let quant: Quant
        do {
            let store = try SQLiteBlockStore(directory: dir.path)
            try store.create(chain.bang)
            quant = chain.quant([chain.transaction("x")], parent: nil)
            _ = try store.commit(quant, parent: nil)
            #expect(throws: StorageError.self) { try SQLiteBlockStore(directory: dir.path) }
        }
        let reopened = try SQLiteBlockStore(directory: dir.path)
        #expect(try reopened.tip(chain: chain.bang.id)?.hash == quant.hash)
        #expect(try reopened.bangs().first?.id == chain.bang.id)
    }
}
