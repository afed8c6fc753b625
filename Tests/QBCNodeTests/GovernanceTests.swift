import QBCCore
import QBCSQLiteStore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCTestSupport
import Testing

@Suite struct GovernanceTests {
    @Test func aRemovedWritersWaitingTransactionsAreDroppedWhenTheChangeIsCommitted() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, store) = try await openService(chain, in: dir)
        let waiting = (0..<3).map { chain.transaction("w\($0)") }
        _ = try await service.admit(waiting, now: chain.clock)
        let removal = chain.membershipChange(.revoke, chain.writer.publicKey, roles: .writer)
        // The removal arrives from a peer inside a Quant; the writer's own transactions still wait.
        let quant = chain.quant([removal], parent: nil)
        guard case .committed = try await service.receive(quant, now: chain.clock) else {
            Issue.record("the membership Quant was not committed")
            return
        }
        #expect(!service.membership.holds(chain.writer.publicKey, .writer))
        #expect(await service.stats().mempoolSize == 0, "the removed writer's waiting transactions are dropped")
        #expect(try await store.mempool(chain: chain.bang.id, limit: 10, limits: chain.rules.transactionLimits).isEmpty)
        let late = try await service.admit([chain.transaction("late")], now: chain.clock)
        guard case .rejected(_, let error) = late[0] else { Issue.record("a removed writer was admitted"); return }
        #expect(error.code == .notAuthorized)

        // Membership is derived from the chain: a reopened service agrees.
        let reopened = try await ChainService(bang: chain.bang, store: store, sealer: chain.node, mempoolCapacity: 10, environment: testEnvironment(workers: 1))
        #expect(reopened.membership == service.membership)
    }

    @Test func anApprovedChangeAppliesOnceEvenWhenWrappedInANewTransaction() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let outsider = SigningKey()
        let grant = chain.membershipChange(.grant, outsider.publicKey, roles: .writer)
        let first = chain.quant([grant], parent: nil)
        let revoke = chain.membershipChange(.revoke, outsider.publicKey, roles: .writer)
        let second = chain.quant([revoke], parent: (1, first.hash))
        for quant in [first, second] {
            guard case .committed = try await service.receive(quant, now: chain.clock) else { Issue.record("not committed"); return }
        }
        // The old approvals, re-sent in a fresh transaction, would grant the role again.
        let rewrapped = Transaction(
            signing: .init(chain: chain.bang.id, sender: chain.admin.publicKey, nonce: .random(), timestamp: chain.clock,
                           contentType: MembershipChange.contentType, payload: grant.payload),
            with: chain.admin)
        let admitted = try await service.admit([rewrapped], now: chain.clock)
        guard case .rejected(_, let error) = admitted[0] else { Issue.record("a replayed change was admitted"); return }
        #expect(error.code == .duplicate)
        guard case .rejected(let quantError) = try await service.receive(chain.quant([rewrapped], parent: (2, second.hash)), now: chain.clock)
        else {
            Issue.record("a replayed change was committed")
            return
        }
        #expect(quantError.code == .duplicate)
        #expect(!service.membership.holds(outsider.publicKey, .writer))
    }

    @Test func aQuantWithAnUnapprovedChangeIsRejected() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let outsider = SigningKey()
        // Signed by a writer, not an admin.
        let byWriter = chain.membershipChange(.grant, outsider.publicKey, roles: .writer, approvers: [chain.writer])
        guard case .rejected(let error) = try await service.receive(chain.quant([byWriter], parent: nil), now: chain.clock) else {
            Issue.record("a writer's membership change was committed")
            return
        }
        #expect(error.code == .notAuthorized)
        // An admin's change whose approval signature is forged.
        var forged = chain.membershipChange(.grant, outsider.publicKey, roles: .writer)
        var bytes = forged.payload
        bytes[bytes.count - 1] ^= 1
        forged = Transaction(
            signing: .init(chain: chain.bang.id, sender: chain.admin.publicKey, nonce: .random(), timestamp: chain.clock,
                           contentType: MembershipChange.contentType, payload: bytes),
            with: chain.admin)
        guard case .rejected(let forgedError) = try await service.receive(chain.quant([forged], parent: nil), now: chain.clock) else {
            Issue.record("a forged approval was committed")
            return
        }
        #expect(forgedError.code == .badSignature)
        #expect(await service.stats().height == 0)
        #expect(!service.membership.holds(outsider.publicKey, .writer))
    }

    @Test func removingTheLastAdminOrAnUnheldRoleIsRefused() throws {
        var chain = ChainBuilder()
        let membership = chain.rules.membership
        let lastAdmin = chain.membershipChange(.revoke, chain.admin.publicKey, roles: .admin)
        #expect(throws: RuleError.self) {
            try Governance.check(lastAdmin, membership: membership, current: membership, rules: chain.rules, chain: chain.bang.id)
        }
        let nothing = chain.membershipChange(.revoke, SigningKey().publicKey, roles: .reader)
        #expect(throws: RuleError.self) {
            try Governance.check(nothing, membership: membership, current: membership, rules: chain.rules, chain: chain.bang.id)
        }
    }
}
