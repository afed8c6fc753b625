import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCTestSupport
import Testing

/// A BFT chain on one node: certificates are required and checked, a final Quant is never
/// replaced, and a second certified Quant at its height is evidence against those who signed both.
@Suite struct BFTChainTests {
    let authorities = [3, 4, 5, 6].map { TestKeys.key(UInt8($0)) }
    let writer = TestKeys.key(2)
    let bang: Bang

    init() {
        var members: [PublicKey: Role] = [TestKeys.key(1).publicKey: .admin, writer.publicKey: .writer]
        for key in authorities { members[key.publicKey] = [.node, .authority] }
        bang = Bang(
            rules: ChainRules(name: "bft", consensus: .bft(), membership: Membership(members)),
            timestamp: Timestamp(milliseconds: 1_800_000_000_000), creator: TestKeys.key(1))
    }

    func quant(_ text: String, by proposer: SigningKey, signers: [SigningKey], round: UInt32 = 0) -> Quant {
        let tx = Transaction(
            signing: .init(chain: bang.id, sender: writer.publicKey, nonce: .random(), timestamp: bang.timestamp,
                           contentType: "text/plain", payload: Array(text.utf8)),
            with: writer)
        let header = QuantHeader(
            chain: bang.id, height: 1, previous: bang.id, timestamp: bang.timestamp, merkleRoot: Merkle.root([tx.id]), transactionCount: 1,
            proposer: proposer.publicKey, difficultyBits: 1, nonce: 0
        ).signed(with: proposer)
        let votes = signers.map { Vote(.precommit, chain: bang.id, height: 1, round: round, quant: header.hash, with: $0) }
        return Quant(header: header, transactions: [tx], certificate: CommitCertificate(round: round, signers: votes.map { .init(key: $0.voter, signature: $0.signature) }))
    }

    @Test func certificatesAreRequiredFinalQuantsStayAndConflictsAreEvidence() async throws {
        let store = MemoryBlockStore()
        try await store.create(bang)
        let chain = try await ChainService(bang: bang, store: store, sealer: authorities[0], mempoolCapacity: 100, environment: testEnvironment(workers: 1))
        let now = Timestamp(milliseconds: bang.timestamp.milliseconds + 1000)
        let a = quant("a", by: authorities[1], signers: Array(authorities[0...2]))
        guard case .rejected(let missing) = try await chain.receive(Quant(header: a.header, transactions: a.transactions), now: now) else {
            Issue.record("a Quant without its certificate was taken")
            return
        }
        #expect(missing.code == .badCertificate)
        let short = quant("a", by: authorities[1], signers: Array(authorities[0...1]))
        guard case .rejected(let tooFew) = try await chain.receive(short, now: now) else { Issue.record("two of four precommits were taken"); return }
        #expect(tooFew.code == .badCertificate)
        guard case .committed = try await chain.receive(a, now: now) else { Issue.record("a certified Quant was refused"); return }
        #expect(try await store.header(chain: bang.id, height: 1)?.certificate == a.certificate)

        // Another certified Quant at height 1: authorities 1 and 2 signed both certificates.
        let b = quant("b", by: authorities[2], signers: Array(authorities[1...3]), round: 1)
        guard case .rejected(let conflict) = try await chain.receive(b, now: now) else { Issue.record("a conflicting Quant was taken"); return }
        #expect(conflict.code == .conflictsWithFinal)
        guard case .rejected = try await chain.switchTo([b], now: now) else { Issue.record("a fork below a final Quant was taken"); return }
        #expect(await chain.peerTip().hash == a.hash)
        let stats = await chain.stats()
        #expect(Set(stats.equivocators) == Set([authorities[1].publicKey, authorities[2].publicKey]))
        #expect(stats.finalityConflicts >= 1)
        #expect(await chain.refuses(voter: authorities[1].publicKey, at: 2))
        #expect(await !chain.refuses(voter: authorities[0].publicKey, at: 2))
        let stored = try await store.finalityConflicts(chain: bang.id)
        #expect(stored.count == 1 && Set(stored[0].signers) == Set([authorities[1].publicKey, authorities[2].publicKey]))
        // A restart keeps the refusal.
        let reopened = try await ChainService(bang: bang, store: store, sealer: authorities[0], mempoolCapacity: 100, environment: testEnvironment(workers: 1))
        #expect(await reopened.refuses(voter: authorities[2].publicKey, at: 5))
        #expect(await reopened.stats().finalityConflicts == 1)
    }

    @Test func theDriverRefusesProposalsWhoseBodyIsNotTheirHeadersAndDropsFarHeights() async throws {
        let store = MemoryBlockStore()
        try await store.create(bang)
        let chain = try await ChainService(bang: bang, store: store, sealer: authorities[0], mempoolCapacity: 100, environment: testEnvironment(workers: 1))
        let made = BFTDriver(chain: chain, key: authorities[0], environment: testEnvironment(workers: 1), send: { @Sendable _ in })
        let driver = try #require(made)
        let proposer = try #require(BFTEngine.proposer(height: 1, round: 0, authorities: chain.membership.members(with: .authority)))
        let key = try #require(authorities.first { $0.publicKey == proposer })
        let real = quant("real", by: key, signers: [])
        let honest = Proposal(quant: Quant(header: real.header, transactions: real.transactions), round: 0, validRound: nil, with: key)
        #expect(try await driver.submit(.proposal(honest)) == .queued)
        // The same signed header with other transactions: the signature still verifies.
        let other = quant("swapped", by: key, signers: [])
        let swapped = Proposal(
            quant: Quant(header: real.header, transactions: other.transactions), round: 0, validRound: nil, proposer: key.publicKey,
            signature: honest.signature)
        #expect(swapped.verifies)
        await #expect(throws: RuleError.self) { _ = try await driver.submit(.proposal(swapped)) }
        // Votes: a height beyond the next is dropped at no cost; one sent again is queued again.
        let far = Vote(.prevote, chain: bang.id, height: 3, round: 0, quant: nil, with: authorities[1])
        #expect(try await driver.submit(.vote(far)) == .dropped(tipHeight: 0))
        let vote = Vote(.prevote, chain: bang.id, height: 1, round: 0, quant: nil, with: authorities[1])
        #expect(try await driver.submit(.vote(vote)) == .queued)
        #expect(try await driver.submit(.vote(vote)) == .queued)
        let stranger = Vote(.prevote, chain: bang.id, height: 1, round: 0, quant: nil, with: TestKeys.key(9))
        await #expect(throws: RuleError.self) { _ = try await driver.submit(.vote(stranger)) }
    }

    /// An authority granted at height 1 votes from height 2 on: the votes of height h are judged by
    /// the membership after h − 1, on every node alike.
    @Test func anAuthorityGrantedAtOneHeightVotesFromTheNext() async throws {
        let store = MemoryBlockStore()
        try await store.create(bang)
        let chain = try await ChainService(bang: bang, store: store, sealer: authorities[0], mempoolCapacity: 100, environment: testEnvironment(workers: 1))
        let made = BFTDriver(chain: chain, key: authorities[0], environment: testEnvironment(workers: 1), send: { @Sendable _ in })
        let driver = try #require(made)
        let newcomer = TestKeys.key(7)
        let early = Vote(.prevote, chain: bang.id, height: 1, round: 0, quant: nil, with: newcomer)
        await #expect(throws: RuleError.self) { _ = try await driver.submit(.vote(early)) }

        let admin = TestKeys.key(1)
        let change = MembershipChange(chain: bang.id, action: .grant, member: newcomer.publicKey, roles: [.node, .authority], nonce: .random())
        let proposal = MembershipProposal(change: change, approvals: [Approval(approving: change, with: admin)])
        let grant = Transaction(
            signing: .init(chain: bang.id, sender: admin.publicKey, nonce: .random(), timestamp: bang.timestamp,
                           contentType: MembershipChange.contentType, payload: proposal.encoded),
            with: admin)
        let header = QuantHeader(
            chain: bang.id, height: 1, previous: bang.id, timestamp: bang.timestamp, merkleRoot: Merkle.root([grant.id]), transactionCount: 1,
            proposer: authorities[1].publicKey, difficultyBits: 1, nonce: 0
        ).signed(with: authorities[1])
        let votes = authorities.prefix(3).map { Vote(.precommit, chain: bang.id, height: 1, round: 0, quant: header.hash, with: $0) }
        let quant = Quant(header: header, transactions: [grant], certificate: CommitCertificate(round: 0, signers: votes.map { .init(key: $0.voter, signature: $0.signature) }))
        guard case .committed = try await chain.receive(quant, now: Timestamp(milliseconds: bang.timestamp.milliseconds + 1000)) else {
            Issue.record("the certified grant was refused")
            return
        }
        #expect(chain.membership.members(with: .authority).count == 5)
        let next = Vote(.prevote, chain: bang.id, height: 2, round: 0, quant: nil, with: newcomer)
        #expect(try await driver.submit(.vote(next)) == .queued)
        // Quorum now 4 of 5: a certificate of 3 for height 2 no longer makes a Quant final.
        #expect(BFTEngine.quorum(chain.membership.members(with: .authority).count) == 4)
        let tx = Transaction(
            signing: .init(chain: bang.id, sender: writer.publicKey, nonce: .random(), timestamp: bang.timestamp,
                           contentType: "text/plain", payload: Array("two".utf8)),
            with: writer)
        let second = QuantHeader(
            chain: bang.id, height: 2, previous: quant.hash, timestamp: bang.timestamp, merkleRoot: Merkle.root([tx.id]), transactionCount: 1,
            proposer: newcomer.publicKey, difficultyBits: 1, nonce: 0
        ).signed(with: newcomer)
        func certified(by signers: [SigningKey]) -> Quant {
            let votes = signers.map { Vote(.precommit, chain: bang.id, height: 2, round: 0, quant: second.hash, with: $0) }
            return Quant(header: second, transactions: [tx], certificate: CommitCertificate(round: 0, signers: votes.map { .init(key: $0.voter, signature: $0.signature) }))
        }
        let now = Timestamp(milliseconds: bang.timestamp.milliseconds + 2000)
        guard case .rejected(let short) = try await chain.receive(certified(by: Array(authorities.prefix(3))), now: now) else {
            Issue.record("three of five precommits made a Quant final")
            return
        }
        #expect(short.code == .badCertificate)
        guard case .committed = try await chain.receive(certified(by: Array(authorities.prefix(3)) + [newcomer]), now: now) else {
            Issue.record("four of five, the newcomer among them, were refused")
            return
        }
    }
}

