import QBCCore
import QBCCrypto
import QBCStorage
import Synchronization

/// One incarnation's handle on a node's durable store. After `crash()` every call fails, so work
/// still in flight from before a crash can never write after it: what the store holds is exactly
/// what was committed before the crash, as on a disk after `kill -9`. Each call is still one
/// atomic step of the durable store.
final class CrashableStore: BlockStore {
    private let base: any BlockStore
    private let crashed = Atomic<Bool>(false)
    private let scheduler: SimulationScheduler
    private let random: Mutex<SeededRandom>

    init(_ base: any BlockStore, scheduler: SimulationScheduler, random: SeededRandom) {
        self.base = base
        self.scheduler = scheduler
        self.random = Mutex(random)
    }

    func crash() { crashed.store(true, ordering: .relaxed) }

    /// Every call first takes 0 to 3 simulated milliseconds, as a call to a disk does, and one in
    /// ten stalls for up to 60 (an fsync behind other writes), so other tasks run in between: the
    /// interleavings a real store allows happen here too.
    private func alive() async throws(StorageError) {
        let delay = random.withLock { $0.chance(0.1) ? 10 + $0.next() % 50 : $0.next() % 4 }
        do { try await scheduler.sleep(milliseconds: delay) } catch { throw StorageError(.io, "the node crashed") }
        guard !crashed.load(ordering: .relaxed) else { throw StorageError(.io, "the node crashed") }
    }

    func bangs() async throws(StorageError) -> [Bang] { try await alive(); return try await base.bangs() }
    func create(_ bang: Bang) async throws(StorageError) { try await alive(); try await base.create(bang) }
    func tip(chain: ChainID) async throws(StorageError) -> StoredHeader? { try await alive(); return try await base.tip(chain: chain) }
    func header(chain: ChainID, height: UInt64) async throws(StorageError) -> StoredHeader? {
        try await alive()
        return try await base.header(chain: chain, height: height)
    }
    func height(ofQuant hash: Hash) async throws(StorageError) -> (chain: ChainID, height: UInt64)? {
        try await alive()
        return try await base.height(ofQuant: hash)
    }
    func headers(chain: ChainID, from height: UInt64, limit: Int) async throws(StorageError) -> [StoredHeader] {
        try await alive()
        return try await base.headers(chain: chain, from: height, limit: limit)
    }
    func transactions(chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int, limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]
    {
        try await alive()
        return try await base.transactions(chain: chain, height: height, from: position, limit: limit, maxBytes: maxBytes, limits: limits)
    }
    func transaction(id: TransactionID, limits: TransactionLimits) async throws(StorageError) -> StoredTransaction? {
        try await alive()
        return try await base.transaction(id: id, limits: limits)
    }
    func committed(_ ids: [TransactionID]) async throws(StorageError) -> Set<TransactionID> {
        try await alive()
        return try await base.committed(ids)
    }
    func committed(_ ids: [TransactionID], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> Set<TransactionID> {
        try await alive()
        return try await base.committed(ids, chain: chain, atOrBelow: height)
    }
    func commit(_ record: QuantRecord) async throws(StorageError) { try await alive(); try await base.commit(record) }
    func sealed(on parent: Hash, chain: ChainID) async throws(StorageError) -> SealedQuant? { try await alive(); return try await base.sealed(on: parent, chain: chain) }
    func replace(above ancestor: StoredHeader?, chain: ChainID, with branch: [QuantRecord], limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]
    {
        try await alive()
        return try await base.replace(above: ancestor, chain: chain, with: branch, limits: limits)
    }
    func memberEvents(chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> [MemberEvent] {
        try await alive()
        return try await base.memberEvents(chain: chain, atOrBelow: height)
    }
    func memberHistory(chain: ChainID, limit: Int) async throws(StorageError) -> [(height: UInt64, event: MemberEvent)] {
        try await alive()
        return try await base.memberHistory(chain: chain, limit: limit)
    }
    func appliedChanges(_ ids: [Hash], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> Set<Hash> {
        try await alive()
        return try await base.appliedChanges(ids, chain: chain, atOrBelow: height)
    }
    func record(_ evidence: Equivocation) async throws(StorageError) { try await alive(); try await base.record(evidence) }
    func equivocations(chain: ChainID) async throws(StorageError) -> [Equivocation] {
        try await alive()
        return try await base.equivocations(chain: chain)
    }
    func equivocators(chain: ChainID) async throws(StorageError) -> Equivocators {
        try await alive()
        return try await base.equivocators(chain: chain)
    }
    func events(chain: ChainID, after sequence: UInt64, limit: Int, maxTransactions: Int) async throws(StorageError) -> [ChainEvent] {
        try await alive()
        return try await base.events(chain: chain, after: sequence, limit: limit, maxTransactions: maxTransactions)
    }
    func lastEvent(chain: ChainID) async throws(StorageError) -> UInt64 {
        try await alive()
        return try await base.lastEvent(chain: chain)
    }
    func connected(chain: ChainID, height: UInt64, through sequence: UInt64) async throws(StorageError) -> (highest: UInt64, hash: Hash?) {
        try await alive()
        return try await base.connected(chain: chain, height: height, through: sequence)
    }
    func addToMempool(_ transactions: [Transaction]) async throws(StorageError) -> Set<TransactionID> {
        try await alive()
        return try await base.addToMempool(transactions)
    }
    func removeFromMempool(_ ids: [TransactionID]) async throws(StorageError) { try await alive(); try await base.removeFromMempool(ids) }
    func mempool(chain: ChainID, limit: Int, maxBytes: Int, limits: TransactionLimits) async throws(StorageError) -> [Transaction] {
        try await alive()
        return try await base.mempool(chain: chain, limit: limit, maxBytes: maxBytes, limits: limits)
    }
    func removeCommittedFromMempool() async throws(StorageError) -> Int { try await alive(); return try await base.removeCommittedFromMempool() }
    func ban(_ peer: PublicKey, until: Timestamp) async throws(StorageError) { try await alive(); try await base.ban(peer, until: until) }
    func signerState(chain: ChainID) async throws(StorageError) -> SignerState? {
        try await alive()
        return try await base.signerState(chain: chain)
    }
    func save(_ state: SignerState, chain: ChainID) async throws(StorageError) { try await alive(); try await base.save(state, chain: chain) }
    func record(_ conflict: FinalityConflict) async throws(StorageError) { try await alive(); try await base.record(conflict) }
    func finalityConflicts(chain: ChainID) async throws(StorageError) -> [FinalityConflict] {
        try await alive()
        return try await base.finalityConflicts(chain: chain)
    }
    func validProof(chain: ChainID) async throws(StorageError) -> ValidProof? {
        try await alive()
        return try await base.validProof(chain: chain)
    }
    func save(_ proof: ValidProof, chain: ChainID) async throws(StorageError) { try await alive(); try await base.save(proof, chain: chain) }
    func bans(after now: Timestamp) async throws(StorageError) -> [PublicKey: Timestamp] {
        try await alive()
        return try await base.bans(after: now)
    }
}
