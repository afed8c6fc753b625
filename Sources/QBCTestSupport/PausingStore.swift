import QBCCore
import QBCCrypto
import QBCStorage
import Synchronization

/// A store that can hold its next `addToMempool` until told to go on, so a test can make a
/// commit land exactly while an admission is on its way to disk. Everything else passes through.
public final class PausingStore: BlockStore {
    private let base: any BlockStore
    private struct State {
        var armed = false
        var arrived: CheckedContinuation<Void, Never>?
        var held: CheckedContinuation<Void, Never>?
        var reached = false
    }
    private let state = Mutex(State())

    public init(_ base: any BlockStore) { self.base = base }

    /// The next `addToMempool` waits at its start for `resume()`.
    public func pauseNextAdmission() { state.withLock { $0.armed = true } }

    /// Returns once an admission is held.
    public func admissionHeld() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Bool in
                if s.reached { return true }
                s.arrived = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    public func resume() {
        let held = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.held = nil }
            return s.held
        }
        held?.resume()
    }

    public func addToMempool(_ transactions: [Transaction]) async throws(StorageError) -> Set<TransactionID> {
        let armed = state.withLock { s -> Bool in
            defer { s.armed = false }
            return s.armed
        }
        if armed {
            await withCheckedContinuation { continuation in
                let arrived = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    s.held = continuation
                    s.reached = true
                    defer { s.arrived = nil }
                    return s.arrived
                }
                arrived?.resume()
            }
        }
        return try await base.addToMempool(transactions)
    }

    public func bangs() async throws(StorageError) -> [Bang] { try await base.bangs() }
    public func create(_ bang: Bang) async throws(StorageError) { try await base.create(bang) }
    public func tip(chain: ChainID) async throws(StorageError) -> StoredHeader? { try await base.tip(chain: chain) }
    public func header(chain: ChainID, height: UInt64) async throws(StorageError) -> StoredHeader? {
        try await base.header(chain: chain, height: height)
    }
    public func height(ofQuant hash: Hash) async throws(StorageError) -> (chain: ChainID, height: UInt64)? {
        try await base.height(ofQuant: hash)
    }
    public func headers(chain: ChainID, from height: UInt64, limit: Int) async throws(StorageError) -> [StoredHeader] {
        try await base.headers(chain: chain, from: height, limit: limit)
    }
    public func transactions(chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int, limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]
    {
        try await base.transactions(chain: chain, height: height, from: position, limit: limit, maxBytes: maxBytes, limits: limits)
    }
    public func transaction(id: TransactionID, limits: TransactionLimits) async throws(StorageError) -> StoredTransaction? {
        try await base.transaction(id: id, limits: limits)
    }
    public func committed(_ ids: [TransactionID]) async throws(StorageError) -> Set<TransactionID> { try await base.committed(ids) }
    public func committed(_ ids: [TransactionID], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> Set<TransactionID> {
        try await base.committed(ids, chain: chain, atOrBelow: height)
    }
    public func commit(_ record: QuantRecord) async throws(StorageError) { try await base.commit(record) }
    public func sealed(on parent: Hash, chain: ChainID) async throws(StorageError) -> SealedQuant? { try await base.sealed(on: parent, chain: chain) }
    public func replace(above ancestor: StoredHeader?, chain: ChainID, with branch: [QuantRecord], limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]
    {
        try await base.replace(above: ancestor, chain: chain, with: branch, limits: limits)
    }
    public func memberEvents(chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> [MemberEvent] {
        try await base.memberEvents(chain: chain, atOrBelow: height)
    }
    public func memberHistory(chain: ChainID, limit: Int) async throws(StorageError) -> [(height: UInt64, event: MemberEvent)] {
        try await base.memberHistory(chain: chain, limit: limit)
    }
    public func appliedChanges(_ ids: [Hash], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> Set<Hash> {
        try await base.appliedChanges(ids, chain: chain, atOrBelow: height)
    }
    public func record(_ evidence: Equivocation) async throws(StorageError) { try await base.record(evidence) }
    public func equivocations(chain: ChainID) async throws(StorageError) -> [Equivocation] { try await base.equivocations(chain: chain) }
    public func equivocators(chain: ChainID) async throws(StorageError) -> Equivocators { try await base.equivocators(chain: chain) }
    public func events(chain: ChainID, after sequence: UInt64, limit: Int, maxTransactions: Int) async throws(StorageError) -> [ChainEvent] {
        try await base.events(chain: chain, after: sequence, limit: limit, maxTransactions: maxTransactions)
    }
    public func lastEvent(chain: ChainID) async throws(StorageError) -> UInt64 { try await base.lastEvent(chain: chain) }
    public func connected(chain: ChainID, height: UInt64, through sequence: UInt64) async throws(StorageError) -> (highest: UInt64, hash: Hash?) {
        try await base.connected(chain: chain, height: height, through: sequence)
    }
    public func removeFromMempool(_ ids: [TransactionID]) async throws(StorageError) { try await base.removeFromMempool(ids) }
    public func mempool(chain: ChainID, limit: Int, maxBytes: Int, limits: TransactionLimits) async throws(StorageError) -> [Transaction] {
        try await base.mempool(chain: chain, limit: limit, maxBytes: maxBytes, limits: limits)
    }
    public func removeCommittedFromMempool() async throws(StorageError) -> Int { try await base.removeCommittedFromMempool() }
    public func ban(_ peer: PublicKey, until: Timestamp) async throws(StorageError) { try await base.ban(peer, until: until) }
    public func signerState(chain: ChainID) async throws(StorageError) -> SignerState? { try await base.signerState(chain: chain) }
    public func save(_ state: SignerState, chain: ChainID) async throws(StorageError) { try await base.save(state, chain: chain) }
    public func validProof(chain: ChainID) async throws(StorageError) -> ValidProof? { try await base.validProof(chain: chain) }
    public func record(_ conflict: FinalityConflict) async throws(StorageError) { try await base.record(conflict) }
    public func finalityConflicts(chain: ChainID) async throws(StorageError) -> [FinalityConflict] { try await base.finalityConflicts(chain: chain) }
    public func save(_ proof: ValidProof, chain: ChainID) async throws(StorageError) { try await base.save(proof, chain: chain) }
    public func bans(after now: Timestamp) async throws(StorageError) -> [PublicKey: Timestamp] { try await base.bans(after: now) }
}
