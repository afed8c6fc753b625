import QBCCore
import QBCCrypto
import QBCNode
import QBCSQLiteStore
import QBCStorage
import QBCTestSupport
import Testing

@Suite struct ProofOfAuthorityTests {
    let delay: UInt32 = 500

    func code(_ chain: ChainBuilder, _ header: QuantHeader, at now: Timestamp? = nil) -> RuleError.Code? {
        let parent = QuantRules.Parent(height: 0, hash: chain.bang.id, timestamp: chain.bang.timestamp)
        do {
            try QuantRules.checkHeader(header, parent: parent, chain: chain.bang.id, rules: chain.rules, now: now ?? chain.clock)
            return nil
        } catch { return error.code }
    }

    @Test func sealsTurnsWeightsAndDelays() throws {
        var chain = ChainBuilder(outOfTurnDelay: delay)
        let txs = [chain.transaction("{}")]
        let inTurn = chain.quant(txs, parent: nil)
        #expect(code(chain, inTurn.header) == nil)
        #expect(chain.rules.consensus.engine.weight(of: inTurn.header) == 2)
        let other = try #require(chain.authorities.first { $0.publicKey != inTurn.header.proposer })
        let early = chain.quant(txs, parent: nil, proposer: other, timestamp: Timestamp(milliseconds: chain.bang.timestamp.milliseconds + 100))
        #expect(code(chain, early.header) == .badTimestamp)
        let late = chain.quant(txs, parent: nil, proposer: other, timestamp: Timestamp(milliseconds: chain.bang.timestamp.milliseconds + 600))
        #expect(code(chain, late.header, at: late.header.timestamp) == nil)
        #expect(chain.rules.consensus.engine.weight(of: late.header) == 1)

        var overclaim = late.header
        overclaim.difficultyBits = 2
        let engine = ProofOfAuthorityEngine(outOfTurnDelayMilliseconds: delay)
        let resealed = try #require(engine.seal(overclaim, with: other, worker: 0, of: 1, shouldStop: { false }))
        #expect(code(chain, resealed, at: late.header.timestamp) == .badProof)
        var forgedSeal = inTurn.header
        forgedSeal.seal = other.sign(forgedSeal.signingBytes)
        #expect(code(chain, forgedSeal) == .badSignature)
        var unsealed = inTurn.header
        unsealed.seal = nil
        #expect(code(chain, unsealed) == .badSignature)
        let outsider = chain.quant(txs, parent: nil, proposer: chain.writer)
        #expect(code(chain, outsider.header) == .notAuthorized)
    }

    @Test func aNodeSealsOnlyInTurnOrAfterTheDelay() async throws {
        var chain = ChainBuilder(outOfTurnDelay: delay)
        let inTurn = try #require(ProofOfAuthorityEngine.inTurn(at: 1, membership: chain.rules.membership))
        let waiting = try #require(chain.authorities.first { $0.publicKey != inTurn })
        let dir = try TemporaryDirectory()
        let store = try SQLiteBlockStore(directory: dir.path)
        try await store.create(chain.bang)
        let service = try await ChainService(bang: chain.bang, store: store, sealer: waiting, mempoolCapacity: 100, environment: testEnvironment(workers: 2))
        let tx = chain.transaction("{}")
        _ = try await service.admit([tx], now: chain.clock)
        let start = chain.bang.timestamp.milliseconds
        guard case .notYourTurn(let error) = try await service.leap(now: Timestamp(milliseconds: start + 100)) else {
            Issue.record("sealed out of turn before the delay")
            return
        }
        #expect(error.code == .notYourTurn)
        #expect(await service.stats().mempoolSize == 1, "the transaction still waits")
        guard case .sealed(let stored) = try await service.leap(now: Timestamp(milliseconds: start + 600)) else {
            Issue.record("did not seal after the delay")
            return
        }
        #expect(stored.header.proposer == waiting.publicKey)
        #expect(stored.cumulativeWork == 1)
    }

    @Test func equivocationIsDetectedAndTheAuthorityIsRefusedAfterwards() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder(outOfTurnDelay: delay)
        let (service, _) = try await openService(chain, in: dir)
        let first = chain.quant([chain.transaction("a")], parent: nil)
        guard case .committed = try await service.receive(first, now: chain.clock) else { Issue.record("refused"); return }
        // The same authority signs a different Quant at height 1.
        let second = chain.quant([chain.transaction("b")], parent: nil)
        #expect(second.header.proposer == first.header.proposer)
        guard case .rejected(let error) = try await service.receive(second, now: chain.clock) else {
            Issue.record("equivocation not detected")
            return
        }
        #expect(error.code == .equivocation)
        #expect(await service.stats().equivocators == [first.header.proposer])
        // Its later Quants are refused, even valid ones.
        let inTurnAt2 = ProofOfAuthorityEngine.inTurn(at: 2, membership: chain.rules.membership)
        let byEquivocator = chain.quant(
            [chain.transaction("c")], parent: (1, first.hash),
            proposer: chain.authorities.first { $0.publicKey == first.header.proposer },
            timestamp: Timestamp(milliseconds: chain.clock.milliseconds + 1000))
        let outcome = try await service.receive(byEquivocator, now: Timestamp(milliseconds: chain.clock.milliseconds + 1000))
        guard case .rejected(let refusal) = outcome else { Issue.record("equivocator's Quant accepted (in turn: \(String(describing: inTurnAt2)))"); return }
        #expect(refusal.code == .equivocation)
    }
}

/// Found by the simulator: when an equivocator's Quants were rolled back, every honest authority
/// had sealed at the heights above the new tip, and refused to seal "at a height it sealed at
/// before": the chain stopped for good. Evidence now needs one parent, and a node refuses only a
/// parent it sealed on.
@Suite struct SealingAfterRollbackTests {
    @Test func anAuthorityExtendsTheTipARollbackLeftEvenAtAHeightItSealedAtBefore() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder(outOfTurnDelay: 500)
        let (service, store) = try await openService(chain, in: dir)
        let byzantine = try #require(chain.authorities.first { $0.publicKey != chain.node.publicKey })
        let start = chain.clock.milliseconds
        func at(_ offset: UInt64) -> Timestamp { Timestamp(milliseconds: start + offset) }
        let e1 = chain.quant([chain.transaction("e1")], parent: nil, proposer: byzantine, timestamp: at(1000))
        let e2 = chain.quant([chain.transaction("e2")], parent: (1, e1.hash), proposer: byzantine, timestamp: at(2000))
        for quant in [e1, e2] {
            guard case .committed = try await service.receive(quant, now: at(3000)) else { Issue.record("refused"); return }
        }
        _ = try await service.admit([chain.transaction("mine")], now: at(3000))
        guard case .sealed(let x3) = try await service.leap(now: at(4000)) else { Issue.record("did not seal at 3"); return }
        #expect(x3.header.height == 3)

        // The byzantine authority's second Quant at height 1, on the same parent: evidence, and a
        // rollback to just below its Quant at height 2.
        let e1Again = chain.quant([chain.transaction("e1'")], parent: nil, proposer: byzantine, timestamp: at(1100))
        guard case .rejected(let error) = try await service.receive(e1Again, now: at(5000)) else { Issue.record("no evidence"); return }
        #expect(error.code == .equivocation)
        #expect(await service.stats().height == 1)

        // This node sealed at heights 3 (and so "above 2") before, but never on the Quant at height 1.
        guard case .sealed(let x2) = try await service.leap(now: at(6000)) else { Issue.record("the chain stopped"); return }
        #expect(x2.header.height == 2 && x2.header.previous == e1.hash && x2.header.proposer == chain.node.publicKey)
        #expect(await service.stats().equivocators == [byzantine.publicKey])
        #expect(try await store.sealed(on: e1.hash, chain: chain.bang.id)?.header == x2.header)
        #expect(try await store.sealed(on: e2.hash, chain: chain.bang.id)?.header == x3.header)
        #expect(try await store.sealed(on: chain.bang.id, chain: chain.bang.id) == nil)
    }

    /// Review of issue 12: when every authority left had sealed on the parent a rollback made the
    /// tip again, none would seal, forever. A node now proposes the very Quant it sealed on that
    /// parent before: the same header is no evidence.
    @Test func anAuthorityProposesAgainTheQuantItSealedOnAParentARollbackRestored() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder(outOfTurnDelay: 500)
        let (service, _) = try await openService(chain, in: dir)
        let byzantine = try #require(chain.authorities.first { $0.publicKey != chain.node.publicKey })
        let start = chain.clock.milliseconds
        func at(_ offset: UInt64) -> Timestamp { Timestamp(milliseconds: start + offset) }
        let e1 = chain.quant([chain.transaction("e1")], parent: nil, proposer: byzantine, timestamp: at(1000))
        guard case .committed = try await service.receive(e1, now: at(1500)) else { Issue.record("refused"); return }
        _ = try await service.admit([chain.transaction("mine")], now: at(1500))
        guard case .sealed(let x2) = try await service.leap(now: at(2000)) else { Issue.record("did not seal at 2"); return }
        // This node's Quant at 2 loses to the byzantine authority's heavier branch...
        let e2 = chain.quant([chain.transaction("e2")], parent: (1, e1.hash), proposer: byzantine, timestamp: at(2100))
        let e3 = chain.quant([chain.transaction("e3")], parent: (2, e2.hash), proposer: byzantine, timestamp: at(3100))
        let e4 = chain.quant([chain.transaction("e4")], parent: (3, e3.hash), proposer: byzantine, timestamp: at(4100))
        guard case .switched = try await service.switchTo([e2, e3, e4], now: at(4500)) else { Issue.record("no switch"); return }
        // ...whose authority then proves to have equivocated at 1: everything above 1 rolls back.
        let e1Again = chain.quant([chain.transaction("e1'")], parent: nil, proposer: byzantine, timestamp: at(1100))
        _ = try await service.receive(e1Again, now: at(5000))
        #expect(await service.stats().height == 1)
        guard case .sealed(let again) = try await service.leap(now: at(6000)) else { Issue.record("the chain stopped"); return }
        #expect(again.hash == x2.hash, "the very same Quant, so no evidence against this node")
        #expect(await service.stats().equivocators == [byzantine.publicKey])
    }

    @Test func twoHeadersAtOneHeightOnDifferentParentsAreNoEvidence() {
        var chain = ChainBuilder(outOfTurnDelay: 500)
        let authority = chain.authorities[0]
        let a1 = chain.quant([chain.transaction("a")], parent: nil, proposer: authority)
        let b1 = chain.quant([chain.transaction("b")], parent: nil, proposer: chain.authorities[1])
        let onA = chain.quant([chain.transaction("c")], parent: (1, a1.hash), proposer: authority)
        let onB = chain.quant([chain.transaction("d")], parent: (1, b1.hash), proposer: authority)
        #expect(Equivocation(onA.header, onB.header) == nil)
        let onAAgain = chain.quant([chain.transaction("e")], parent: (1, a1.hash), proposer: authority)
        #expect(Equivocation(onA.header, onAAgain.header) != nil)
    }
}

@Suite struct EquivocationMemoryTests {
    @Test func aRestartRemembersEquivocators() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder(outOfTurnDelay: 500)
        let first = chain.quant([chain.transaction("a")], parent: nil)
        let second = chain.quant([chain.transaction("b")], parent: nil)
        do {
            let (service, _) = try await openService(chain, in: dir)
            _ = try await service.receive(first, now: chain.clock)
            _ = try await service.receive(second, now: chain.clock)
            #expect(await service.stats().equivocators == [first.header.proposer])
        }
        let store = try SQLiteBlockStore(directory: dir.path)
        let reopened = try await ChainService(bang: chain.bang, store: store, sealer: chain.node, mempoolCapacity: 10, environment: testEnvironment(workers: 1))
        #expect(await reopened.stats().equivocators == [first.header.proposer])
    }
}
