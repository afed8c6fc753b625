import QBCCore
import QBCSQLiteStore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCTestSupport
import Testing

@Suite struct RetargetTests {
    let engine = ProofOfWorkEngine(difficultyBits: 8, retarget: Retarget(targetIntervalMilliseconds: 1000, window: 2))

    func parent(_ height: UInt64, bits: UInt8, span: UInt64?) -> QuantRules.Parent {
        QuantRules.Parent(
            height: height, hash: .zero, timestamp: Timestamp(milliseconds: 100_000), difficultyBits: bits,
            windowStart: span.map { Timestamp(milliseconds: 100_000 - $0) })
    }

    @Test func difficultyMovesOneBitPerWindowTowardTheTarget() {
        #expect(engine.expectedDifficulty(above: parent(0, bits: 0, span: nil)) == 8, "the first Quant uses the Bang's")
        #expect(engine.expectedDifficulty(above: parent(1, bits: 8, span: nil)) == 8, "inside a window: the parent's")
        #expect(engine.expectedDifficulty(above: parent(2, bits: 8, span: 900)) == 9, "window took < half of 2000 ms")
        #expect(engine.expectedDifficulty(above: parent(2, bits: 8, span: 1000)) == 8, "exactly half: unchanged")
        #expect(engine.expectedDifficulty(above: parent(2, bits: 8, span: 3999)) == 8)
        #expect(engine.expectedDifficulty(above: parent(4, bits: 8, span: 4001)) == 7, "window took > twice")
        #expect(engine.expectedDifficulty(above: parent(4, bits: 1, span: 10_000)) == 1, "never below 1")
        #expect(engine.expectedDifficulty(above: parent(4, bits: 40, span: 1)) == 40, "never above 40")
        #expect(ProofOfWorkEngine(difficultyBits: 8).expectedDifficulty(above: parent(2, bits: 8, span: 1)) == 8, "no retarget")
    }

    @Test func aQuantAtTheWrongDifficultyIsRefused() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder(difficultyBits: 4, retarget: Retarget(targetIntervalMilliseconds: 1000, window: 1))
        let (service, _) = try await openService(chain, in: dir)
        let start = chain.bang.timestamp.milliseconds
        let first = chain.quant([chain.transaction("1")], parent: nil, timestamp: Timestamp(milliseconds: start + 10))
        let now = Timestamp(milliseconds: start + 1000)
        guard case .committed = try await service.receive(first, now: now) else { Issue.record("first refused"); return }
        // 10 ms for a window of one 1000 ms Quant: the next Quant must meet 5 bits.
        let stale = chain.quant([chain.transaction("2")], parent: (1, first.hash), timestamp: Timestamp(milliseconds: start + 20))
        guard case .rejected(let error) = try await service.receive(stale, now: now) else { Issue.record("old difficulty accepted"); return }
        #expect(error.code == .badProof)
        let retargeted = chain.quant(
            [chain.transaction("3")], parent: (1, first.hash), timestamp: Timestamp(milliseconds: start + 20), difficulty: 5)
        guard case .committed(let stored) = try await service.receive(retargeted, now: now) else { Issue.record("refused"); return }
        #expect(stored.cumulativeWork == 16 + 32)
        // A Leap here seals at the difficulty the rules expect.
        _ = try await service.admit([chain.transaction("4")], now: now)
        guard case .sealed(let sealed) = try await service.leap(now: Timestamp(milliseconds: start + 5000)) else { Issue.record("no Leap"); return }
        #expect(sealed.header.difficultyBits == 6, "10 ms again: one more bit")
    }

    @Test func aShorterHeavierChainBeatsALongerLighterOne() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder(difficultyBits: 4, retarget: Retarget(targetIntervalMilliseconds: 1000, window: 1))
        let (service, _) = try await openService(chain, in: dir)
        let t0 = chain.bang.timestamp.milliseconds
        let now = Timestamp(milliseconds: t0 + 60_000)
        // Ours: three slow Quants, difficulty falling 4 → 3 → 2: work 16 + 8 + 4 = 28.
        var parent: (UInt64, Hash)? = nil
        for (height, bits) in [(UInt64(1), UInt8(4)), (2, 3), (3, 2)] {
            let quant = chain.quant(
                [chain.transaction("ours \(height)")], parent: parent, timestamp: Timestamp(milliseconds: t0 + height * 10_000),
                difficulty: bits)
            guard case .committed = try await service.receive(quant, now: now) else { Issue.record("ours \(height) refused"); return }
            parent = (height, quant.hash)
        }
        #expect(await service.stats().cumulativeWork == 28)
        // Theirs: two fast Quants, 4 → 5: work 16 + 32 = 48 with fewer Quants.
        let a = chain.quant([chain.transaction("a")], parent: nil, timestamp: Timestamp(milliseconds: t0 + 10), difficulty: 4)
        let b = chain.quant([chain.transaction("b")], parent: (1, a.hash), timestamp: Timestamp(milliseconds: t0 + 20), difficulty: 5)
        guard case .switched(let tip, let orphaned) = try await service.switchTo([a, b], now: now) else {
            Issue.record("the heavier, shorter chain did not win")
            return
        }
        #expect(tip.header.height == 2)
        #expect(tip.cumulativeWork == 48)
        #expect(orphaned == 3)
    }
}
