import QBCCore
import QBCCrypto
import QBCTestSupport
import Testing

/// Four authorities' state machines wired to each other in memory: every message reaches every
/// machine that is not `silent`, in order; timeouts fire when the test says so.
private struct Rounds {
    var builder = ChainBuilder()
    let keys = [3, 4, 5, 6].map { TestKeys.key(UInt8($0)) }
    var machines: [BFTHeight]
    var silent: Set<Int> = []
    /// Deliveries to drop: (from, to).
    var cut: Set<[Int]> = []
    var queue: [(from: Int, message: BFTHeight.Message)] = []
    var timeouts: [(Int, BFTHeight.Timeout)] = []
    var decided: [Int: Quant] = [:]
    var persisted: [Int: SignerState] = [:]
    var valid: [Int: ValidProof] = [:]
    /// What a node builds when asked: its own Quant, so that different proposers build different ones.
    var offered: [Int: Quant] = [:]

    init() {
        let keys = self.keys
        let authorities = keys.map(\.publicKey)
        machines = keys.map { BFTHeight(chain: Hash.blake2b([1]), height: 1, authorities: authorities, engine: BFTEngine(), key: $0) }
        let chain = machines[0].chain
        for (index, key) in keys.enumerated() {
            let header = QuantHeader(
                chain: chain, height: 1, previous: chain, timestamp: Timestamp(milliseconds: 1), merkleRoot: Merkle.root([]),
                transactionCount: 0, proposer: key.publicKey, difficultyBits: 1, nonce: UInt64(index))
            offered[index] = Quant(header: BFTEngine().seal(header, with: key, worker: 0, of: 1, shouldStop: { false }) ?? header, transactions: [])
        }
    }

    mutating func perform(_ index: Int, _ actions: [BFTHeight.Action]) {
        for action in actions {
            switch action {
            case .build(let round):
                if let quant = offered[index] { perform(index, machines[index].built(quant, round: round)) }
            case .persist(let state): persisted[index] = state
            case .persistValid(let proof): valid[index] = proof
            case .send(let message): queue.append((index, message))
            case .schedule(let timeout): timeouts.append((index, timeout))
            case .decide(let quant): decided[index] = quant
            }
        }
    }

    mutating func startAll() {
        for index in machines.indices where !silent.contains(index) { perform(index, machines[index].start()) }
        deliver()
    }

    mutating func deliver() {
        while !queue.isEmpty {
            let (from, message) = queue.removeFirst()
            guard !silent.contains(from) else { continue }
            for to in machines.indices where to != from && !silent.contains(to) && !cut.contains([from, to]) {
                switch message {
                case .proposal(let proposal):
                    perform(to, machines[to].receive(proposal, valid: true).1)
                case .vote(let vote):
                    perform(to, machines[to].receive(vote).1)
                }
            }
        }
    }

    /// Fires every pending timeout once, then delivers what follows.
    mutating func fireTimeouts() {
        let pending = timeouts
        timeouts = []
        for (index, timeout) in pending where !silent.contains(index) { perform(index, machines[index].timeout(timeout)) }
        deliver()
    }
}

@Suite struct BFTHeightTests {
    @Test func fourHonestAuthoritiesDecideOneCertifiedQuant() throws {
        var rounds = Rounds()
        rounds.startAll()
        #expect(rounds.decided.count == 4)
        let hashes = Set(rounds.decided.values.map(\.hash))
        #expect(hashes.count == 1)
        let quant = try #require(rounds.decided[0])
        let certificate = try #require(quant.certificate)
        try certificate.check(header: quant.header, hash: quant.hash, authorities: rounds.keys.map(\.publicKey))
        // Height 1, round 0: the proposer is the authority at index 1 in key order.
        #expect(quant.header.proposer == rounds.machines[0].authorities[1])
    }

    @Test func aSilentProposerCostsARoundNotTheHeight() throws {
        var rounds = Rounds()
        let proposer = try #require(rounds.machines[0].proposer)
        let silent = try #require(rounds.keys.firstIndex { $0.publicKey == proposer })
        rounds.silent = [silent]
        rounds.startAll()
        #expect(rounds.decided.isEmpty)
        for _ in 0..<4 where rounds.decided.count < 3 { rounds.fireTimeouts() }
        #expect(rounds.decided.count == 3)
        #expect(Set(rounds.decided.values.map(\.hash)).count == 1)
        #expect(rounds.decided.values.allSatisfy { $0.certificate?.round == 1 })
    }

    @Test func twoSilentOfFourDecideNothingUntilOneReturns() {
        var rounds = Rounds()
        rounds.silent = [0, 1]
        rounds.startAll()
        for _ in 0..<12 { rounds.fireTimeouts() }
        #expect(rounds.decided.isEmpty)
        // Without a quorum of prevotes no step can end, so no round is wasted either.
        #expect(rounds.machines[2].round == 0 && rounds.machines[2].step == .prevote)
        // One comes back: it hears what the others send again and the height is decided.
        rounds.silent = [0]
        rounds.perform(1, rounds.machines[1].start())
        for index in [2, 3] { rounds.queue += rounds.machines[index].ownMessages.map { (index, $0) } }
        rounds.deliver()
        for _ in 0..<6 where rounds.decided.count < 3 { rounds.fireTimeouts() }
        #expect(rounds.decided.count == 3)
        #expect(Set(rounds.decided.values.map(\.hash)).count == 1)
    }

    @Test func aSignedVoteBindsAfterARestart() throws {
        var rounds = Rounds()
        // Node 2 hears only the proposal, prevotes for it, then crashes.
        rounds.cut = Set((0..<4).flatMap { from in [0, 1, 3].map { [from, $0] } })
        rounds.startAll()
        let state = try #require(rounds.persisted[2])
        let prevote = try #require(state.prevote)
        #expect(prevote.quant != nil)
        // Restarted, it has lost every message; a timeout would make a fresh machine prevote nil.
        var restarted = BFTHeight(
            chain: rounds.machines[2].chain, height: 1, authorities: rounds.keys.map(\.publicKey), engine: BFTEngine(), key: rounds.keys[2],
            restoring: try SignerState(decoding: state.encoded))
        var sent = [Vote]()
        for action in restarted.start() + restarted.timeout(.init(step: .propose, height: 1, round: 0, after: 0)) {
            if case .send(.vote(let vote)) = action { sent.append(vote) }
        }
        #expect(sent.map(\.quant) == [prevote.quant])
    }

    @Test func refusesStrangersFarRoundsAndSeesConflicts() throws {
        var rounds = Rounds()
        let chain = rounds.machines[0].chain
        let stranger = Vote(.prevote, chain: chain, height: 1, round: 0, quant: nil, with: TestKeys.key(9))
        guard case .refused(let error) = rounds.machines[0].receive(stranger).0 else { Issue.record("a stranger's vote was taken"); return }
        #expect(error.code == .badVote)
        let far = Vote(.prevote, chain: chain, height: 1, round: BFTHeight.roundsAhead + 1, quant: nil, with: rounds.keys[1])
        guard case .refused(let farError) = rounds.machines[0].receive(far).0 else { Issue.record("a far round was taken"); return }
        #expect(farError.code == .staleVote)
        let other = Vote(.prevote, chain: chain, height: 2, round: 0, quant: nil, with: rounds.keys[1])
        guard case .refused(let heightError) = rounds.machines[0].receive(other).0 else { Issue.record("another height was taken"); return }
        #expect(heightError.code == .staleVote)
        let first = Vote(.prevote, chain: chain, height: 1, round: 0, quant: nil, with: rounds.keys[1])
        let second = Vote(.prevote, chain: chain, height: 1, round: 0, quant: Hash.blake2b([7]), with: rounds.keys[1])
        #expect(rounds.machines[0].receive(first).0 == .accepted)
        #expect(rounds.machines[0].receive(first).0 == .duplicate)
        #expect(rounds.machines[0].receive(second).0 == .conflicting)
    }

    @Test func anEquivocatingProposerCannotSplitTheHonest() {
        // The round-0 proposer sends one Quant to two authorities and another to the third.
        for split in 0..<3 {
            var rounds = Rounds()
            let authorities = rounds.machines[0].authorities
            let byzantine = rounds.keys.firstIndex { $0.publicKey == rounds.machines[0].proposer } ?? 0
            let honest = rounds.machines.indices.filter { $0 != byzantine }
            rounds.silent = [byzantine]
            let key = rounds.keys[byzantine]
            let quants = [rounds.offered[byzantine], rounds.offered[(byzantine + 1) % 4]].compactMap { $0 }
            for index in honest { rounds.perform(index, rounds.machines[index].start()) }
            for (position, index) in honest.enumerated() {
                let quant = quants[position == split ? 1 : 0]
                let proposal = Proposal(quant: quant, round: 0, validRound: nil, with: key)
                rounds.perform(index, rounds.machines[index].receive(proposal, valid: true).1)
            }
            rounds.deliver()
            for _ in 0..<6 where rounds.decided.count < 3 { rounds.fireTimeouts() }
            #expect(authorities.count == 4)
            #expect(rounds.decided.count == 3)
            #expect(Set(rounds.decided.values.map(\.hash)).count == 1)
        }
    }

    @Test func certificatesRefuseShortForeignAndForgedSignatures() throws {
        var rounds = Rounds()
        rounds.startAll()
        let quant = try #require(rounds.decided[0])
        let certificate = try #require(quant.certificate)
        let authorities = rounds.keys.map(\.publicKey)
        let decoded = try CommitCertificate(decoding: certificate.encoded)
        #expect(decoded == certificate)
        let short = CommitCertificate(round: certificate.round, signers: Array(certificate.signers.prefix(2)))
        #expect(throws: RuleError.self) { try short.check(header: quant.header, hash: quant.hash, authorities: authorities) }
        #expect(throws: RuleError.self) { try certificate.check(header: quant.header, hash: quant.hash, authorities: authorities.filter { $0 != certificate.signers[0].key } + [TestKeys.key(9).publicKey]) }
        let moved = CommitCertificate(round: certificate.round + 1, signers: certificate.signers)
        #expect(throws: RuleError.self) { try moved.check(header: quant.header, hash: quant.hash, authorities: authorities) }
        // The first two signers in the wrong order: one certificate has one encoding.
        let encoded = certificate.encoded
        let bytes = Array(encoded[0..<6]) + Array(encoded[102..<198]) + Array(encoded[6..<102]) + Array(encoded[198...])
        #expect(throws: CanonicalReader.DecodingError.self) { try CommitCertificate(decoding: bytes) }
        #expect(BFTEngine.quorum(4) == 3 && BFTEngine.quorum(5) == 4 && BFTEngine.quorum(7) == 5 && BFTEngine.quorum(1) == 1)
    }

    @Test func aLockedNodeKeepsItsQuantAndItsQuorumAcrossACrash() throws {
        let rounds = Rounds()
        let authorities = rounds.keys.map(\.publicKey)
        let chain = rounds.machines[0].chain
        let proposerKey = try #require(rounds.keys.first { $0.publicKey == rounds.machines[0].proposer })
        let quant = try #require(rounds.offered[rounds.keys.firstIndex { $0.publicKey == proposerKey.publicKey } ?? 0])
        // Node 0 (not the proposer of round 0 in this key order) hears the proposal and a quorum of
        // prevotes, locks, and crashes before anything else.
        let locker = rounds.keys.indices.first { rounds.keys[$0].publicKey != proposerKey.publicKey } ?? 0
        var machine = rounds.machines[locker]
        var actions = machine.receive(Proposal(quant: quant, round: 0, validRound: nil, with: proposerKey), valid: true).1
        for key in rounds.keys where key.publicKey != rounds.keys[locker].publicKey {
            actions += machine.receive(Vote(.prevote, chain: chain, height: 1, round: 0, quant: quant.hash, with: key)).1
        }
        var signer: SignerState?
        var proof: ValidProof?
        for action in actions {
            if case .persist(let state) = action { signer = state }
            if case .persistValid(let valid) = action { proof = valid }
        }
        let stored = try #require(proof)
        let decoded = try ValidProof(decoding: stored.encoded)
        #expect(decoded.quant.hash == quant.hash && decoded.round == 0 && decoded.prevotes.count >= 3)
        #expect(try #require(signer).lockedQuant == quant.hash)
        // Restarted, it runs rounds until it proposes: the Quant it is locked on, citing round 0.
        var restarted = BFTHeight(
            chain: chain, height: 1, authorities: authorities, engine: BFTEngine(), key: rounds.keys[locker], restoring: signer, valid: decoded)
        var proposed: Proposal?
        var out = restarted.start()
        for _ in 0..<12 where proposed == nil {
            for action in out { if case .send(.proposal(let proposal)) = action { proposed = proposal } }
            out = [.propose, .prevote, .precommit].flatMap { step in
                restarted.timeout(.init(step: step, height: 1, round: restarted.round, after: 0))
            }
        }
        let proposal = try #require(proposed)
        #expect(proposal.quant.hash == quant.hash && proposal.validRound == 0)
        // And it passes on the quorum behind it, others' prevotes included.
        let relayed = restarted.ownMessages.compactMap { message -> Vote? in
            if case .vote(let vote) = message, vote.round == 0, vote.voter != rounds.keys[locker].publicKey { return vote }
            return nil
        }
        #expect(relayed.count >= 2)
    }

    @Test func strayVotesCannotCrowdOutAVoteForAProposedQuant() throws {
        let rounds = Rounds()
        let chain = rounds.machines[0].chain
        let proposerKey = try #require(rounds.keys.first { $0.publicKey == rounds.machines[0].proposer })
        let others = rounds.keys.filter { $0.publicKey != proposerKey.publicKey }
        var machine = BFTHeight(
            chain: chain, height: 1, authorities: rounds.keys.map(\.publicKey), engine: BFTEngine(), key: others[0])
        let quant = try #require(rounds.offered[rounds.keys.firstIndex { $0.publicKey == proposerKey.publicKey } ?? 0])
        var actions = machine.receive(Proposal(quant: quant, round: 0, validRound: nil, with: proposerKey), valid: true).1
        // An equivocating authority first votes for ten Quants nobody proposed, then for this one.
        for index in 0..<10 {
            actions += machine.receive(Vote(.prevote, chain: chain, height: 1, round: 0, quant: Hash.blake2b([UInt8(index)]), with: others[1])).1
        }
        #expect(machine.receive(Vote(.prevote, chain: chain, height: 1, round: 0, quant: quant.hash, with: others[1])).0 == .conflicting)
        actions += machine.receive(Vote(.prevote, chain: chain, height: 1, round: 0, quant: quant.hash, with: others[2])).1
        // Its own prevote, the equivocator's and one more: a quorum of 3 of 4, so it locks and precommits.
        let precommitted = (actions + machine.receive(Vote(.prevote, chain: chain, height: 1, round: 0, quant: quant.hash, with: others[2])).1)
            .contains { if case .send(.vote(let vote)) = $0 { vote.kind == .precommit && vote.quant == quant.hash } else { false } }
        #expect(precommitted || machine.signer.lockedQuant == quant.hash)
        #expect(machine.signer.lockedQuant == quant.hash)
    }
}

