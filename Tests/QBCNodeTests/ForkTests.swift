import QBCCore
import QBCSQLiteStore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCTestSupport
import Testing

@Suite struct ForkTests {
    @Test func aHeavierValidBranchReplacesOursAndOrphansReturnToTheMempool() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, store) = try await openService(chain, in: dir)
        let shared = [chain.transaction("s")]
        let base = chain.quant(shared, parent: nil)
        guard case .committed = try await service.receive(base, now: chain.clock) else { Issue.record("base refused"); return }

        // Ours: one Quant with a transaction only we have.
        let mine = chain.transaction("mine")
        let ourQuant = chain.quant([mine], parent: (1, base.hash))
        guard case .committed = try await service.receive(ourQuant, now: chain.clock) else { Issue.record("ours refused"); return }

        // Theirs: two Quants from the same ancestor; the first has a higher hash than ours.
        var a = chain.quant([chain.transaction("a")], parent: (1, base.hash))
        while a.hash < ourQuant.hash { a = chain.quant([chain.transaction("a")], parent: (1, base.hash)) }
        let b = chain.quant([chain.transaction("b")], parent: (2, a.hash))
        let now = chain.clock

        // Equal work and a higher tip hash: not preferred.
        guard case .notPreferred = try await service.switchTo([a], now: now) else { Issue.record("a losing branch won"); return }
        // Invalid: a forged transaction inside the heavier branch.
        let forgedTx = Transaction(body: b.transactions[0].body, signature: chain.admin.sign(b.transactions[0].signingBytes))
        let forged = chain.quant([forgedTx], parent: (2, a.hash))
        guard case .rejected(let error) = try await service.switchTo([a, forged], now: now) else { Issue.record("forged branch"); return }
        #expect(error.code == .badSignature)
        #expect(await service.stats().tipHash == ourQuant.hash, "nothing changed")
        // Replay: the branch repeats a transaction below the fork.
        let replay = chain.quant(shared, parent: (2, a.hash))
        guard case .rejected(let replayError) = try await service.switchTo([a, replay], now: now) else { Issue.record("replay"); return }
        #expect(replayError.code == .duplicate)

        guard case .switched(let tip, let orphaned) = try await service.switchTo([a, b], now: now) else {
            Issue.record("the heavier branch did not win")
            return
        }
        #expect(tip.hash == b.hash)
        #expect(orphaned == 1)
        let stats = await service.stats()
        #expect(stats.height == 3)
        #expect(stats.transactionCount == 3)
        #expect(await service.waitingTransaction(mine.id) != nil, "the orphaned transaction waits again")
        #expect(try await store.transaction(id: mine.id, limits: .standard) == nil)
        #expect(try await store.mempool(chain: chain.bang.id, limit: 10, limits: .standard).map(\.id) == [mine.id])
        // It is sealed again on top of the new tip.
        guard case .sealed(let next) = try await service.leap(now: now) else { Issue.record("no Leap"); return }
        #expect(next.header.previous == b.hash)
    }
}

@Suite struct ForkChoiceTests {
    @Test func moreWorkWinsAndEqualWorkFallsToTheLowerTipHash() {
        let low = Hash.zero
        let high = Hash(unchecked: [UInt8](repeating: 0xff, count: 32))
        #expect(ForkChoice.prefers(candidateWork: 2, candidateTip: high, over: 1, currentTip: low))
        #expect(!ForkChoice.prefers(candidateWork: 1, candidateTip: low, over: 2, currentTip: high))
        #expect(ForkChoice.prefers(candidateWork: 5, candidateTip: low, over: 5, currentTip: high))
        #expect(!ForkChoice.prefers(candidateWork: 5, candidateTip: high, over: 5, currentTip: low))
        #expect(!ForkChoice.prefers(candidateWork: 5, candidateTip: low, over: 5, currentTip: low), "never switch to the same tip")
    }
}

@Suite struct TieBreakTests {
    @Test func onEqualWorkTheLowerTipHashWins() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let ours = chain.quant([chain.transaction("ours")], parent: nil)
        guard case .committed = try await service.receive(ours, now: chain.clock) else { Issue.record("refused"); return }
        var theirs = chain.quant([chain.transaction("theirs")], parent: nil)
        while theirs.hash > ours.hash { theirs = chain.quant([chain.transaction("theirs")], parent: nil) }
        guard case .switched(let tip, let orphaned) = try await service.switchTo([theirs], now: chain.clock) else {
            Issue.record("the lower tip hash did not win")
            return
        }
        #expect(tip.hash == theirs.hash)
        #expect(orphaned == 1)
    }
}
