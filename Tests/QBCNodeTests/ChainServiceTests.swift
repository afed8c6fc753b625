import QBCCore
import QBCSQLiteStore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCTestSupport
import Testing

@Suite struct ChainServiceTests {
    @Test func concurrentDuplicateSubmissionsAdmitOnce() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let txs = (0..<200).map { chain.transaction(#"{"n":\#($0)}"#) }
        let now = chain.clock
        let outcomes = try await withThrowingTaskGroup(of: [AdmissionOutcome].self) { group in
            for _ in 0..<4 { group.addTask { try await service.admit(txs, now: now) } }
            return try await group.reduce(into: [AdmissionOutcome]()) { $0 += $1 }
        }
        let admitted = outcomes.filter { if case .admitted = $0 { true } else { false } }
        #expect(admitted.count == 200)
        #expect(await service.stats().mempoolSize == 200)
    }

    @Test func replayRacingALeapIsRefused() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let txs = (0..<300).map { chain.transaction(#"{"n":\#($0)}"#) }
        let now = chain.clock
        _ = try await service.admit(txs, now: now)
        async let leap = service.leap(now: now)
        async let replay = service.admit(txs, now: now)
        guard case .sealed = try await leap else {
            Issue.record("the Leap did not seal")
            return
        }
        for outcome in try await replay {
            guard case .rejected(_, let error) = outcome else {
                Issue.record("a replay was admitted")
                continue
            }
            #expect(error.code == .duplicate)
        }
        let stats = await service.stats()
        #expect(stats.transactionCount == 100)
        #expect(stats.mempoolSize == 200)
    }

    @Test func admissionChecksEveryRule() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let good = chain.transaction("{}")
        let forged = Transaction(body: good.body, signature: chain.admin.sign(good.signingBytes))
        let outsider = chain.transaction("{}", by: SigningKey())
        let notJSON = chain.transaction("{", contentType: "application/json")
        let stale = chain.transaction("{}")
        let later = Timestamp(milliseconds: chain.clock.milliseconds + 11 * 60_000)
        let outcomes = try await service.admit([forged, outsider, notJSON], now: chain.clock)
        let codes = outcomes.map { outcome -> RuleError.Code? in
            if case .rejected(_, let error) = outcome { return error.code }
            return nil
        }
        #expect(codes == [.badSignature, .notAuthorized, .invalidPayload])
        let old = try await service.admit([stale], now: later)
        guard case .rejected(_, let error) = old[0] else { Issue.record("stale admitted"); return }
        #expect(error.code == .timestampTooOld)
        #expect(await service.stats().mempoolSize == 0)
    }

    /// Issue 12 (second round): a stranger's batch of transactions "from" random keys with
    /// signatures over other messages cost a signature check each before the role check refused
    /// them. The role comes first now: membership is public.
    @Test func strangersAreRefusedBeforeTheirSignaturesAreChecked() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let stranger = SigningKey()
        let body = chain.transaction("{}", by: stranger).body
        let forged = Transaction(body: body, signature: stranger.sign(Array("something else".utf8)))
        let outcomes = try await service.admit([forged], now: chain.clock)
        #expect(outcomes.map(\.code) == [.notAuthorized])
    }

    /// Review of issue 12: a transaction bigger than any Quant of its chain was admitted, then
    /// waited first in sealing order forever, and every Leap sealed nothing.
    @Test func aTransactionNoQuantCanHoldIsRefused() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder(maxQuantBytes: 1024)
        let (service, _) = try await openService(chain, in: dir)
        let big = chain.transaction(String(repeating: "x", count: 1000))
        let small = chain.transaction("{}")
        let outcomes = try await service.admit([big, small], now: chain.clock)
        #expect(outcomes.map(\.code) == [.payloadTooLarge, nil])
        guard case .sealed = try await service.leap(now: chain.clock) else { Issue.record("the Leap sealed nothing"); return }
    }

    /// Issue 12: a flood into a full mempool used to be verified in full before being refused,
    /// which kept the cores busy for nothing. Now it is refused first; what is refused is not lost
    /// for its sender, who may send it again after a Leap.
    @Test func aFullMempoolRefusesBeforeCheckingSignatures() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir, capacity: 2)
        let filling = [chain.transaction(#"{"n":1}"#), chain.transaction(#"{"n":2}"#)]
        let good = chain.transaction(#"{"n":3}"#)
        let forged = Transaction(body: good.body, signature: chain.admin.sign(good.signingBytes))
        let now = chain.clock
        _ = try await service.admit(filling, now: now)
        let whileFull = try await service.admit([forged, good], now: now)
        #expect(whileFull.map(\.code) == [.mempoolFull, .mempoolFull])
        guard case .sealed = try await service.leap(now: now) else { Issue.record("the Leap did not seal"); return }
        let afterLeap = try await service.admit([forged, good], now: now)
        #expect(afterLeap.map(\.code) == [.badSignature, nil])
        #expect(await service.stats().mempoolSize == 1)
    }
}

extension AdmissionOutcome {
    /// The refusal's code; nil when admitted.
    fileprivate var code: RuleError.Code? {
        if case .rejected(_, let error) = self { return error.code }
        return nil
    }
}
