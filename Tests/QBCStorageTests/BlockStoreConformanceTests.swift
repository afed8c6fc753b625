import Foundation
import GRDB
import QBCCore
import QBCCrypto
import QBCSQLiteStore
import QBCStorage
import QBCTestSupport
import Testing

/// Every `BlockStore` keeps the same promises: the SQLite store a node runs on and the memory
/// store the simulator runs on pass the same tests.
/// `sqliteFlushing` is the SQLite store writing held ids to its index after every second one, so
/// every promise is kept both by ids in memory and by ids in `tx_id` (decision D72).
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory, sqlite, sqliteFlushing

    var testDescription: String { rawValue }

    func open(_ dir: TemporaryDirectory) throws -> any BlockStore {
        switch self {
        case .memory: MemoryBlockStore()
        case .sqlite: try SQLiteBlockStore(directory: dir.path)
        case .sqliteFlushing: try SQLiteBlockStore(directory: dir.path, recentIDs: 2)
        }
    }
}

extension StoreKind {
    /// A store in `dir` with `bang`'s chain created.
    func open(_ dir: TemporaryDirectory, holding bang: Bang) async throws -> any BlockStore {
        let store = try open(dir)
        try await store.create(bang)
        return store
    }
}

extension ChainBuilder {
    /// `quant` as the store keeps it on top of `parent`, weighed by the chain's engine.
    func record(_ quant: Quant, parent: StoredHeader?, events: [MemberEvent] = []) -> QuantRecord {
        QuantRecord(quant: quant, stored: StoredHeader(quant, parent: parent, work: rules.consensus.engine.weight(of: quant.header)), events: events)
    }
}

@Suite struct BlockStoreConformanceTests {
    @Test(arguments: StoreKind.allCases) func commitAndReadBack(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try await kind.open(dir, holding: chain.bang)
        try await store.create(chain.bang)
        #expect(try await store.bangs().map(\.id) == [chain.bang.id])
        #expect(try await store.tip(chain: chain.bang.id) == nil)

        let txs = (0..<5).map { chain.transaction(#"{"n":\#($0)}"#) }
        #expect(try await store.addToMempool(txs).isEmpty)
        #expect(try await store.mempool(chain: chain.bang.id, limit: 100, limits: .standard).map(\.id) == txs.map(\.id))
        let first = chain.record(chain.quant(Array(txs.prefix(3)), parent: nil), parent: nil)
        try await store.commit(first)
        #expect(first.stored.cumulativeTransactions == 3)
        #expect(first.stored.cumulativeWork == 16)
        let second = chain.record(chain.quant(Array(txs.suffix(2)), parent: (1, first.quant.hash)), parent: first.stored)
        try await store.commit(second)
        #expect(second.stored.cumulativeTransactions == 5)

        let id = chain.bang.id
        #expect(try await store.tip(chain: id)?.hash == second.quant.hash)
        #expect(try await store.tip(chain: id)?.cumulativeWork == 32)
        #expect(try await store.header(chain: id, height: 1)?.hash == first.quant.hash)
        #expect(try await store.header(chain: id, height: 3) == nil)
        #expect(try await store.height(ofQuant: second.quant.hash)?.height == 2)
        #expect(try await store.headers(chain: id, from: 1, limit: 10).map(\.hash) == [first.quant.hash, second.quant.hash])
        #expect(try await store.headers(chain: id, from: 2, limit: 1).map(\.hash) == [second.quant.hash])
        #expect(try await store.transactions(chain: id, height: 1, limits: .standard).map(\.id) == txs.prefix(3).map(\.id))
        let found = try #require(try await store.transaction(id: txs[4].id, limits: .standard))
        #expect(found.height == 2)
        #expect(found.position == 1)
        #expect(found.quantHash == second.quant.hash)
        #expect(found.transaction.hasValidSignature)
        #expect(try await store.committed(txs.map(\.id) + [Hash.zero]) == Set(txs.map(\.id)))
        #expect(try await store.committed(txs.map(\.id), chain: id, atOrBelow: 1) == Set(txs.prefix(3).map(\.id)))
        #expect(try await store.mempool(chain: id, limit: 100, limits: .standard).isEmpty, "committed transactions leave the mempool")
    }

    @Test(arguments: StoreKind.allCases) func transactionsArePagedByPositionCountAndBytes(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try await kind.open(dir, holding: chain.bang)
        let txs = (0..<6).map { chain.transaction(String(repeating: "x", count: 100 + $0)) }
        try await store.commit(chain.record(chain.quant(txs, parent: nil), parent: nil))
        let id = chain.bang.id
        #expect(try await store.transactions(chain: id, height: 1, from: 2, limit: 3, maxBytes: .max, limits: .standard).map(\.id)
            == txs[2..<5].map(\.id))
        let size = txs[0].encodedSize
        #expect(try await store.transactions(chain: id, height: 1, from: 0, limit: 10, maxBytes: size * 2 + 1, limits: .standard).count == 2)
        #expect(try await store.transactions(chain: id, height: 1, from: 0, limit: 10, maxBytes: 1, limits: .standard).count == 1,
                "the first transaction comes whatever its size")
        #expect(try await store.transactions(chain: id, height: 1, from: 6, limit: 10, maxBytes: .max, limits: .standard).isEmpty)
        #expect(try await store.transactions(chain: id, height: 1, from: 4, limit: .max, maxBytes: .max, limits: .standard).map(\.id)
            == txs[4...].map(\.id), "no limit, from a later position (the streamed answers ask so)")
    }

    /// Bodies are numbered as they are first stored: those that waited when admitted, the rest
    /// with the Quant, so a Quant's numbers come in runs and out of its order. Pages read them
    /// back in the Quant's order from every position, bounded by count and bytes.
    @Test(arguments: StoreKind.allCases) func pagesFollowTheQuantsOrderWhateverTheBodiesNumbers(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try await kind.open(dir, holding: chain.bang)
        let txs = (0..<9).map { chain.transaction("body \($0)") }
        _ = try await store.addToMempool([txs[6], txs[5], txs[1], txs[2], txs[3]])
        let quant = chain.quant(txs, parent: nil)
        try await store.commit(chain.record(quant, parent: nil))
        let id = chain.bang.id
        let ordered = quant.transactions.map(\.id)
        let size = txs[0].encodedSize
        for from in 0...9 {
            for limit in [1, 2, 4, 9] {
                let page = try await store.transactions(chain: id, height: 1, from: from, limit: limit, maxBytes: .max, limits: .standard)
                #expect(page.map(\.id) == Array(ordered[min(9, from)..<min(9, from + limit)]), "from \(from), limit \(limit)")
            }
            let bounded = try await store.encodedTransactions(chain: id, height: 1, from: from, limit: .max, maxBytes: size * 3 + 1)
            #expect(bounded == quant.transactions[min(9, from)..<min(9, from + 3)].map(\.encoded), "from \(from), 3 bodies' bytes")
        }
    }

    @Test(arguments: StoreKind.allCases) func commitRefusesAGapAReplayedHeightOrACommittedTransaction(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try await kind.open(dir, holding: chain.bang)
        let tx = chain.transaction("1")
        let first = chain.record(chain.quant([tx], parent: nil), parent: nil)
        try await store.commit(first)
        let again = await #expect(throws: StorageError.self) { try await store.commit(first) }
        let gap = chain.quant([chain.transaction("2")], parent: (5, first.quant.hash))
        let gapError = await #expect(throws: StorageError.self) { try await store.commit(chain.record(gap, parent: first.stored)) }
        // A replay is told apart: a received Quant's replays are found here, and refused as a rule.
        let replay = chain.quant([chain.transaction("3"), tx], parent: (1, first.quant.hash))
        let replayError = await #expect(throws: StorageError.self) { try await store.commit(chain.record(replay, parent: first.stored)) }
        #expect(replayError?.kind == .replayed, "\(String(describing: replayError))")
        #expect(again?.kind != .replayed && gapError?.kind != .replayed, "a height refused is not a replay")
        #expect(try await store.tip(chain: chain.bang.id)?.header.height == 1)
        #expect(try await store.header(chain: chain.bang.id, height: 2) == nil, "a refused commit leaves nothing behind")
    }

    /// The atomic step that keeps a transaction admitted during a commit out of the stored mempool.
    @Test(arguments: StoreKind.allCases) func theMempoolNeverTakesACommittedTransaction(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try await kind.open(dir, holding: chain.bang)
        let (a, b) = (chain.transaction("a"), chain.transaction("b"))
        try await store.commit(chain.record(chain.quant([a], parent: nil), parent: nil))
        #expect(try await store.addToMempool([a, b]) == [a.id])
        #expect(try await store.mempool(chain: chain.bang.id, limit: 10, limits: .standard).map(\.id) == [b.id])
        #expect(try await store.addToMempool([b]).isEmpty, "adding twice is harmless")
        #expect(try await store.removeCommittedFromMempool() == 0)
        try await store.removeFromMempool([b.id])
        #expect(try await store.mempool(chain: chain.bang.id, limit: 10, limits: .standard).isEmpty)
    }

    /// An id covers the signed fields, not the signature: a peer's Quant may carry a waiting
    /// transaction with another signature, and what is committed (and served) is the Quant's copy.
    @Test(arguments: StoreKind.allCases) func aCommittedTransactionIsTheQuantsCopy(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try await kind.open(dir, holding: chain.bang)
        let waiting = chain.transaction("twice signed")
        let other = Transaction(body: waiting.body, signature: Signature(unchecked: waiting.signature.bytes.reversed()))
        #expect(other.id == waiting.id)
        #expect(try await store.addToMempool([waiting]).isEmpty)
        let quant = chain.quant([other], parent: nil)
        try await store.commit(chain.record(quant, parent: nil))
        #expect(try await store.transaction(id: waiting.id, limits: .standard)?.transaction.signature == other.signature)
        #expect(try await store.transactions(chain: chain.bang.id, height: 1, limits: .standard).map(\.signature) == [other.signature])
        #expect(try await store.mempool(chain: chain.bang.id, limit: 10, limits: .standard).isEmpty)
    }

    /// The Quants this node sealed outlive their place in the chain, by parent: after a rollback
    /// it may propose only the very same Quant on that parent (another would be evidence).
    @Test(arguments: StoreKind.allCases) func quantsSealedHereSurviveRollbacks(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let id = chain.bang.id
        let received = chain.record(chain.quant([chain.transaction("a")], parent: nil), parent: nil)
        let own = chain.quant([chain.transaction("b"), chain.transaction("c")], parent: (1, received.quant.hash))
        do {
            let store = try kind.open(dir)
            try await store.create(chain.bang)
            try await store.commit(received)
            try await store.commit(QuantRecord(quant: own, stored: chain.record(own, parent: received.stored).stored, sealedHere: true))
            #expect(try await store.sealed(on: id, chain: id) == nil, "the Quant at height 1 was received, not sealed here")
            #expect(try await store.sealed(on: received.quant.hash, chain: id) == SealedQuant(own))
            _ = try await store.replace(above: received.stored, chain: id, with: [], limits: .standard)
            #expect(try await store.tip(chain: id)?.hash == received.quant.hash)
            #expect(try await store.sealed(on: received.quant.hash, chain: id) == SealedQuant(own))
        }
        if kind != .memory {
            let reopened = try SQLiteBlockStore(directory: dir.path)
            #expect(try await reopened.sealed(on: received.quant.hash, chain: id) == SealedQuant(own))
        }
    }

    @Test(arguments: StoreKind.allCases) func replaceSwitchesABranchAndRollsBack(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let store = try await kind.open(dir, holding: chain.bang)
        let id = chain.bang.id
        let (shared, mine, theirs, both) = (chain.transaction("shared"), chain.transaction("mine"), chain.transaction("theirs"), chain.transaction("both"))
        let base = chain.record(chain.quant([shared], parent: nil), parent: nil)
        try await store.commit(base)
        let ours = chain.record(chain.quant([mine, both], parent: (1, base.quant.hash)), parent: base.stored)
        try await store.commit(ours)
        let change = chain.membershipChange(.grant, TestKeys.key(9).publicKey, roles: .writer)
        let event = MemberEvent(change: Hash.blake2b([1]), member: TestKeys.key(9).publicKey, roles: .writer, position: 0)
        let branch1 = chain.record(chain.quant([theirs, both], parent: (1, base.quant.hash), difficulty: 5), parent: base.stored)
        let branch2 = chain.record(chain.quant([change], parent: (2, branch1.quant.hash)), parent: branch1.stored, events: [event])
        let orphaned = try await store.replace(above: base.stored, chain: id, with: [branch1, branch2], limits: .standard)
        #expect(orphaned.map(\.id) == [mine.id], "only what the branch lacks is orphaned")
        #expect(try await store.mempool(chain: id, limit: 10, limits: .standard).map(\.id) == [mine.id])
        #expect(try await store.tip(chain: id)?.hash == branch2.quant.hash)
        #expect(try await store.committed([mine.id, theirs.id, both.id]) == [theirs.id, both.id])
        #expect(try await store.memberEvents(chain: id, atOrBelow: 3) == [event])
        let history = try await store.memberHistory(chain: id, limit: 10)
        #expect(history.map(\.height) == [3] && history.map(\.event) == [event], "the change with the height it committed at")
        #expect(try await store.memberHistory(chain: id, limit: 0).isEmpty)
        #expect(try await store.appliedChanges([event.change], chain: id, atOrBelow: 2) == [])
        #expect(try await store.appliedChanges([event.change], chain: id, atOrBelow: 3) == [event.change])

        // An empty branch rolls back: everything above the ancestor waits again.
        let rolled = try await store.replace(above: base.stored, chain: id, with: [], limits: .standard)
        #expect(Set(rolled.map(\.id)) == [theirs.id, both.id, change.id])
        #expect(try await store.tip(chain: id)?.hash == base.quant.hash)
        #expect(try await store.memberEvents(chain: id, atOrBelow: 10).isEmpty)
        #expect(try await store.memberHistory(chain: id, limit: 10).isEmpty, "a rollback takes its changes out of the history")
        #expect(try await store.height(ofQuant: branch1.quant.hash) == nil)
        #expect(try await store.mempool(chain: id, limit: 10, limits: .standard).count == 4)

        // The event log tells each change once, in the order the store made it.
        let events = try await store.events(chain: id, after: 0, limit: 100, maxTransactions: .max)
        let told = events.map { "\($0.sequence)\($0.kind == .connected ? "+" : "-")\($0.height)" }
        #expect(told == ["1+1", "2+2", "3-2", "4+2", "5+3", "6-3", "7-2"])
        #expect(events[1].hash == ours.quant.hash && events[2].hash == ours.quant.hash && events[3].hash == branch1.quant.hash)
        #expect(events[2].transactions.map(\.id) == [mine.id, both.id], "a disconnected Quant names its transactions")
        #expect(events[2].transactions.first?.sender == mine.sender)
        #expect(events[2].transactions.first?.contentType == mine.body.contentType)
        #expect(try await store.events(chain: id, after: 5, limit: 1, maxTransactions: .max).map(\.sequence) == [6])
        #expect(try await store.events(chain: id, after: 7, limit: 10, maxTransactions: .max).isEmpty)
        // A page stops once its events name the budget of transactions, the first whatever its size.
        let counts = events.map(\.transactions.count)
        #expect(Set(counts).count > 1, "events of different sizes: \(counts)")
        for budget in [0, 1, 2, 3, 4, 6] {
            let page = try await store.events(chain: id, after: 0, limit: 100, maxTransactions: budget)
            var expected = 0
            var named = 0
            while expected < counts.count, named < budget || expected == 0 {
                named += counts[expected]
                expected += 1
            }
            #expect(page.map(\.sequence) == events.prefix(expected).map(\.sequence), "budget \(budget) of \(counts)")
        }
        #expect(try await store.lastEvent(chain: id) == 7)
        #expect(try await store.lastEvent(chain: Hash.zero) == 0)
        let asOfThree = try await store.connected(chain: id, height: 2, through: 3)
        #expect(asOfThree.highest == 2 && asOfThree.hash == ours.quant.hash)
        let asOfFive = try await store.connected(chain: id, height: 2, through: 5)
        #expect(asOfFive.highest == 3 && asOfFive.hash == branch1.quant.hash)
    }

    @Test(arguments: StoreKind.allCases) func evidenceKeepsTheLowestHeightPerAuthorityAndBansExpire(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        let chain = ChainBuilder(outOfTurnDelay: 500)
        let store = try await kind.open(dir, holding: chain.bang)
        let authority = chain.authorities[0]
        func evidence(at height: UInt64) throws -> Equivocation {
            let parent = (height - 1, Hash.blake2b([UInt8(height)]))
            let a = chain.quant([], parent: parent, proposer: authority, timestamp: Timestamp(milliseconds: 1))
            let b = chain.quant([], parent: parent, proposer: authority, timestamp: Timestamp(milliseconds: 2))
            return try #require(Equivocation(a.header, b.header))
        }
        try await store.record(try evidence(at: 7))
        try await store.record(try evidence(at: 3))
        try await store.record(try evidence(at: 3))
        #expect(try await store.equivocations(chain: chain.bang.id).map(\.height) == [3, 7])
        #expect(try await store.equivocators(chain: chain.bang.id) == [authority.publicKey: 3])
        #expect(try await store.equivocators(chain: Hash.zero).isEmpty)

        let (soon, later) = (Timestamp(milliseconds: 1000), Timestamp(milliseconds: 5000))
        try await store.ban(TestKeys.key(11).publicKey, until: soon)
        try await store.ban(TestKeys.key(12).publicKey, until: later)
        try await store.ban(TestKeys.key(12).publicKey, until: soon)
        #expect(try await store.bans(after: Timestamp(milliseconds: 0)).count == 2)
        #expect(try await store.bans(after: Timestamp(milliseconds: 2000)) == [TestKeys.key(12).publicKey: later], "a ban never shortens")
    }

    @Test(arguments: StoreKind.allCases) func bftCertificatesSignerStateValidProofsAndConflictsRoundTrip(_ kind: StoreKind) async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder(outOfTurnDelay: 500)
        let store = try await kind.open(dir, holding: chain.bang)
        let id = chain.bang.id
        let keys = chain.authorities
        func certified(_ quant: Quant, round: UInt32) -> Quant {
            let votes = keys.map { Vote(.precommit, chain: id, height: quant.header.height, round: round, quant: quant.hash, with: $0) }
            return quant.certified(by: CommitCertificate(round: round, signers: votes.map { .init(key: $0.voter, signature: $0.signature) }))
        }
        let first = certified(chain.quant([chain.transaction("a")], parent: nil), round: 2)
        try await store.commit(chain.record(first, parent: nil))
        #expect(try await store.tip(chain: id)?.certificate == first.certificate)
        #expect(try await store.headers(chain: id, from: 1, limit: 5).first?.certificate == first.certificate)

        #expect(try await store.signerState(chain: id) == nil)
        var state = SignerState(height: 2)
        state.round = 3
        state.lockedRound = 1
        state.lockedQuant = first.hash
        state.prevote = .init(round: 3, quant: nil)
        try await store.save(state, chain: id)
        #expect(try await store.signerState(chain: id) == state)

        let prevotes = keys.map { Vote(.prevote, chain: id, height: 1, round: 2, quant: first.hash, with: $0) }
        try await store.save(ValidProof(round: 2, quant: first, prevotes: prevotes), chain: id)
        let proof = try #require(try await store.validProof(chain: id))
        #expect(proof.quant.hash == first.hash && proof.quant.transactions == first.transactions && proof.prevotes == prevotes)

        let other = certified(chain.quant([chain.transaction("b")], parent: nil), round: 3)
        let conflict = try #require(FinalityConflict(first, other, authorities: keys.map(\.publicKey)))
        try await store.record(conflict)
        try await store.record(conflict)
        #expect(try await store.finalityConflicts(chain: id) == [conflict])
        #expect(try await store.equivocators(chain: id) == Dictionary(uniqueKeysWithValues: keys.map { ($0.publicKey, UInt64(1)) }))
    }
}

/// What only a store on disk does.
@Suite struct SQLiteBlockStoreTests {
    @Test func reopeningKeepsEverythingAndTheLockIsExclusive() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let quant: Quant
        do {
            let store = try SQLiteBlockStore(directory: dir.path)
            try await store.create(chain.bang)
            quant = chain.quant([chain.transaction("x")], parent: nil)
            try await store.commit(chain.record(quant, parent: nil))
            #expect(throws: StorageError.self) { try SQLiteBlockStore(directory: dir.path) }
        }
        let reopened = try SQLiteBlockStore(directory: dir.path)
        #expect(try await reopened.tip(chain: chain.bang.id)?.hash == quant.hash)
        #expect(try await reopened.bangs().first?.id == chain.bang.id)
    }

    /// Data written by versions before 0.2: a mempool row for a committed transaction.
    /// A database from before the event log gets one `connected` event per stored Quant.
    @Test func theEventLogIsFilledInForQuantsStoredBeforeIt() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let txs = (0..<3).map { chain.transaction("\($0)") }
        let first = chain.record(chain.quant([txs[0]], parent: nil), parent: nil)
        let second = chain.record(chain.quant([txs[1], txs[2]], parent: (1, first.quant.hash)), parent: first.stored)
        do {
            let store = try SQLiteBlockStore(directory: dir.path)
            try await store.create(chain.bang)
            try await store.commit(first)
            try await store.commit(second)
        }
        // Make it the database an earlier version left: no log, migrations from v6 on not applied.
        try EarlierLayout.rewind(directory: dir.path)
        do {
            let queue = try DatabaseQueue(path: dir.file("qbc.sqlite"))
            try await queue.write { db in
                try db.execute(sql: "DROP TABLE chain_event")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v6-events'")
            }
            try queue.close()
        }
        let store = try SQLiteBlockStore(directory: dir.path)
        let events = try await store.events(chain: chain.bang.id, after: 0, limit: 10, maxTransactions: .max)
        #expect(events.map(\.sequence) == [1, 2])
        #expect(events.map(\.hash) == [first.quant.hash, second.quant.hash])
        #expect(events[1].transactions.map(\.id) == [txs[1].id, txs[2].id])
        let third = chain.record(chain.quant([chain.transaction("3")], parent: (2, second.quant.hash)), parent: second.stored)
        try await store.commit(third)
        #expect(try await store.lastEvent(chain: chain.bang.id) == 3)
    }

    /// Migration `v9` moves committed and waiting transactions into the layout where each body is
    /// written once, and drops a waiting row for a committed transaction (versions before 0.2
    /// could leave one): everything reads back as before, and the chain goes on.
    @Test func transactionsFromTheEarlierLayoutAreCarriedOver() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let txs = (0..<5).map { chain.transaction("\($0)") }
        let waiting = [chain.transaction("w1"), chain.transaction("w2")]
        let first = chain.record(chain.quant([txs[0]], parent: nil), parent: nil)
        let second = chain.record(chain.quant(Array(txs[1...4]), parent: (1, first.quant.hash)), parent: first.stored)
        do {
            let store = try SQLiteBlockStore(directory: dir.path)
            try await store.create(chain.bang)
            try await store.commit(first)
            try await store.commit(second)
            #expect(try await store.addToMempool(waiting).isEmpty)
        }
        try EarlierLayout.rewind(directory: dir.path, addingWaiting: [txs[2]])
        let store = try SQLiteBlockStore(directory: dir.path)
        #expect(try await store.mempool(chain: chain.bang.id, limit: 10, limits: .standard).map(\.id) == waiting.map(\.id))
        #expect(try await store.removeCommittedFromMempool() == 1, "the stale row was dropped, and is reported once")
        #expect(try await store.removeCommittedFromMempool() == 0)
        #expect(try await store.transactions(chain: chain.bang.id, height: 2, limits: .standard).map(\.id) == Array(txs[1...4]).map(\.id))
        let found = try #require(try await store.transaction(id: txs[3].id, limits: .standard))
        #expect((found.height, found.position, found.quantHash) == (2, 2, second.quant.hash))
        #expect(try await store.committed(txs.map(\.id) + waiting.map(\.id)) == Set(txs.map(\.id)))
        let third = chain.record(chain.quant(waiting, parent: (2, second.quant.hash)), parent: second.stored)
        try await store.commit(third)
        #expect(try await store.mempool(chain: chain.bang.id, limit: 10, limits: .standard).isEmpty)
        #expect(try await store.transactions(chain: chain.bang.id, height: 3, limits: .standard).map(\.id) == waiting.map(\.id))
    }

    /// Ids are held in memory and written to `tx_id` in runs (decision D72): whichever side an id
    /// is on, and across a reopen, a transaction is found, counted committed or waiting once, and
    /// removed; every body at or below the index mark is in `tx_id` and none above it (D84), and
    /// so after migration `v11` from the list `v10` kept.
    @Test func idsHeldInMemoryOrWrittenToTheIndexReadBackTheSameAfterAReopen() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let waiting = (0..<12).map { chain.transaction("w\($0)") }
        let received = (0..<3).map { chain.transaction("r\($0)") }
        // Batches of 4 with runs of 8: the second batch writes the first eight ids to the index;
        // the rest, and the Quant's two new ones, stay held.
        let inQuant = [waiting[0], waiting[5], waiting[9], received[0], received[1]]
        let quant = chain.quant(inQuant, parent: nil)
        let removed = [waiting[1], waiting[10]]
        func check(_ store: SQLiteBlockStore, _ when: Comment) async throws {
            let stillWaiting = waiting.filter { tx in !inQuant.contains { $0.id == tx.id } && !removed.contains { $0.id == tx.id } }
            #expect(try await store.mempool(chain: chain.bang.id, limit: 20, limits: .standard).map(\.id) == stillWaiting.map(\.id), when)
            #expect(try await store.committed(waiting.map(\.id) + received.map(\.id)) == Set(inQuant.map(\.id)), when)
            #expect(try await store.committed(inQuant.map(\.id), chain: chain.bang.id, atOrBelow: 1) == Set(inQuant.map(\.id)), when)
            for (position, tx) in inQuant.enumerated() {
                let found = try #require(try await store.transaction(id: tx.id, limits: .standard), when)
                #expect((found.height, found.position, found.transaction.id) == (1, position, tx.id), when)
            }
            #expect(try await store.transaction(id: waiting[2].id, limits: .standard) == nil, "waiting is not committed: \(when)")
            #expect(try await store.transaction(id: received[2].id, limits: .standard) == nil, when)
            // Adding again stores nothing new and reports the committed ones.
            #expect(try await store.addToMempool(stillWaiting + inQuant) == Set(inQuant.map(\.id)), when)
        }
        do {
            let store = try SQLiteBlockStore(directory: dir.path, recentIDs: 8)
            try await store.create(chain.bang)
            for start in stride(from: 0, to: 12, by: 4) { #expect(try await store.addToMempool(Array(waiting[start..<start + 4])).isEmpty) }
            try await store.commit(chain.record(quant, parent: nil))
            // One removed id was written to the index, the other is held; both come back, and go.
            try await store.removeFromMempool(removed.map(\.id))
            #expect(try await store.addToMempool(removed).isEmpty)
            #expect(try await store.mempool(chain: chain.bang.id, limit: 20, limits: .standard).suffix(2).map(\.id) == removed.map(\.id))
            try await store.removeFromMempool(removed.map(\.id))
            // A write that fails after storing a body leaves no id behind in memory.
            let late = chain.transaction("late")
            let refused = chain.quant([late, received[0]], parent: (1, quant.hash))
            await #expect(throws: StorageError.self) {
                try await store.commit(chain.record(refused, parent: chain.record(quant, parent: nil).stored))
            }
            #expect(try await store.addToMempool([late]).isEmpty)
            #expect(try await store.mempool(chain: chain.bang.id, limit: 20, limits: .standard).map(\.id).contains(late.id))
            try await store.removeFromMempool([late.id])
            try await check(store, "before the reopen")
        }
        _ = try await reopen(dir, recentIDs: 7)  // waits until the store has let go
        let bodies = try DatabaseQueue(path: dir.file("qbc.sqlite"))
        let (counted, indexedBelow, unindexedAbove, above) = try await bodies.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tx_body") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tx_id i JOIN tx_body b ON b.seq = i.seq WHERE b.seq <= (SELECT seq FROM tx_index_mark)") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tx_body WHERE seq > (SELECT seq FROM tx_index_mark) AND seq NOT IN (SELECT seq FROM tx_id)") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tx_body WHERE seq > (SELECT seq FROM tx_index_mark)") ?? -1)
        }
        try bodies.close()
        #expect((counted, indexedBelow, unindexedAbove, above) == (12, 7, 5, 5))
        do { try await check(try await reopen(dir, recentIDs: 7), "after a reopen") }
        try EarlierLayout.rewindToUnindexedList(directory: dir.path)
        do { try await check(try await reopen(dir, recentIDs: 7), "after migration v11 from the list v10 kept") }
        do { try await check(try await reopen(dir, recentIDs: 1), "after a reopen that writes every id at once") }
        do { try await check(try await reopen(dir, recentIDs: 50_000), "after a reopen with the default run") }
    }

    /// A body number at or below the index mark is never handed out again, even when the body
    /// that had it was dropped before a restart: its id would count as written to `tx_id`, and
    /// the next open would lose it (D84).
    @Test func aNumberAtOrBelowTheIndexMarkIsNotUsedAgainAfterARestart() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (kept, dropped, late) = (chain.transaction("kept"), chain.transaction("dropped"), chain.transaction("late"))
        do {
            let store = try SQLiteBlockStore(directory: dir.path, recentIDs: 2)
            try await store.create(chain.bang)
            #expect(try await store.addToMempool([kept, dropped]).isEmpty)  // a run: the mark moves to 2
            try await store.removeFromMempool([dropped.id])  // the highest body goes
        }
        do {
            let store = try await reopen(dir, recentIDs: 2)
            #expect(try await store.addToMempool([late]).isEmpty)
            try await store.commit(chain.record(chain.quant([kept, late], parent: nil), parent: nil))
        }
        let store = try await reopen(dir, recentIDs: 2)
        for tx in [kept, late] {
            #expect(try await store.transaction(id: tx.id, limits: .standard)?.height == 1, "\(tx.id.hex)")
        }
        #expect(try await store.committed([kept.id, late.id, dropped.id]) == [kept.id, late.id])
    }

    /// Opens the store again once the last one has let go of the folder: the task that wrote the
    /// last admission group may hold it a moment after its caller has its answer.
    private func reopen(_ dir: TemporaryDirectory, recentIDs: Int) async throws -> SQLiteBlockStore {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let store = try? SQLiteBlockStore(directory: dir.path, recentIDs: recentIDs) { return store }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try SQLiteBlockStore(directory: dir.path, recentIDs: recentIDs)
    }
}
