import QBCCore
import QBCCrypto
import QBCNode
import QBCSQLiteStore
import QBCStorage
import QBCTestSupport
import Testing

/// The race that made nodes stop sealing for good: a transaction admitted at the moment a peer's
/// Quant holding it was committed left its mempool row behind, and after a restart every Leap
/// failed on it. Here the commit is made to land while the admission is on its way to disk.
@Suite struct AdmissionRaceTests {
    @Test func aTransactionAdmittedWhileItsQuantCommitsNeverStaysInTheStoredMempool() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let tx = chain.transaction("raced")
        let quant = chain.quant([tx], parent: nil)
        do {
            let sqlite = try SQLiteBlockStore(directory: dir.path)
            try await sqlite.create(chain.bang)
            let store = PausingStore(sqlite)
            let service = try await ChainService(
                bang: chain.bang, store: store, sealer: chain.node, mempoolCapacity: 100, environment: testEnvironment())
            store.pauseNextAdmission()
            let now = chain.clock
            async let admission = service.admit([tx], now: now)
            await store.admissionHeld()
            guard case .committed = try await service.receive(quant, now: now) else {
                Issue.record("the peer's Quant was not committed")
                return
            }
            store.resume()
            let outcome = try await admission
            guard case .rejected(_, let error)? = outcome.first else {
                Issue.record("a transaction committed meanwhile was admitted: \(outcome)")
                return
            }
            #expect(error.code == .duplicate)
            #expect(try await sqlite.mempool(chain: chain.bang.id, limit: 10, limits: .standard).isEmpty, "no row outlives the commit")
            #expect(await service.stats().mempoolSize == 0)
        }
        // After a restart the chain seals new transactions.
        let (reopened, _) = try await openService(chain, in: dir)
        let next = chain.transaction("after")
        _ = try await reopened.admit([next], now: chain.clock)
        guard case .sealed(let stored) = try await reopened.leap(now: chain.clock) else {
            Issue.record("the restarted chain did not seal")
            return
        }
        #expect(stored.header.height == 2)
    }
}
