public import QBCCore
public import QBCCrypto
import Synchronization

/// A `BlockStore` in memory, for tests and the simulator. It models what a committed database
/// transaction keeps: every call that returns has applied all of its writes at once, so a node
/// "crashing" and reopening the same store sees exactly what the SQLite store would after a
/// `kill -9`. It enforces the same constraints as the SQLite schema (unique transaction ids,
/// Quant hashes and applied changes; commits only on the tip).
public final class MemoryBlockStore: BlockStore {
    private struct Chain {
        let bang: Bang
        var quants: [(record: StoredHeader, transactions: [Transaction], events: [MemberEvent])] = []
        /// The event log (`ChainEvent`); event n is at index n − 1.
        var log: [ChainEvent] = []
    }

    private struct State {
        var chains: [ChainID: Chain] = [:]
        var order: [ChainID] = []
        var quantByHash: [Hash: (ChainID, UInt64)] = [:]
        var txByID: [TransactionID: (chain: ChainID, height: UInt64, position: Int)] = [:]
        var mempool: [TransactionID: (seq: Int, tx: Transaction)] = [:]
        var nextSeq = 0
        var evidence: [ChainID: [Equivocation]] = [:]
        var bans: [PublicKey: Timestamp] = [:]
        var sealedOn: [ChainID: [Hash: SealedQuant]] = [:]
        var signers: [ChainID: SignerState] = [:]
        var validProofs: [ChainID: ValidProof] = [:]
        var conflicts: [ChainID: Set<FinalityConflict>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    private func withState<T>(_ body: (inout State) throws(StorageError) -> T) throws(StorageError) -> T {
        try state.withLock { (s: inout State) throws(StorageError) -> T in try body(&s) }
    }

    private static func chain(_ id: ChainID, in s: State) throws(StorageError) -> Chain {
        guard let chain = s.chains[id] else { throw StorageError(.conflict, "no chain \(id.hex) in the store") }
        return chain
    }

    // MARK: Chains

    public func bangs() async throws(StorageError) -> [Bang] {
        try withState { s in s.order.compactMap { s.chains[$0]?.bang } }
    }

    public func create(_ bang: Bang) async throws(StorageError) {
        try withState { s in
            guard s.chains[bang.id] == nil else { return }
            s.chains[bang.id] = Chain(bang: bang)
            s.order.append(bang.id)
        }
    }

    // MARK: Quants

    public func tip(chain: ChainID) async throws(StorageError) -> StoredHeader? {
        try withState { s in s.chains[chain]?.quants.last?.record }
    }

    public func header(chain: ChainID, height: UInt64) async throws(StorageError) -> StoredHeader? {
        try withState { s in
            guard let quants = s.chains[chain]?.quants, height >= 1, height <= UInt64(quants.count) else { return nil }
            return quants[Int(height - 1)].record
        }
    }

    public func height(ofQuant hash: Hash) async throws(StorageError) -> (chain: ChainID, height: UInt64)? {
        try withState { s in s.quantByHash[hash].map { (chain: $0.0, height: $0.1) } }
    }

    public func headers(chain: ChainID, from height: UInt64, limit: Int) async throws(StorageError) -> [StoredHeader] {
        try withState { s in
            guard let quants = s.chains[chain]?.quants, limit > 0 else { return [] }
            let start = Int(clamping: max(height, 1) - 1)
            guard start < quants.count else { return [] }
            return quants[start..<min(quants.count, start + min(limit, quants.count))].map(\.record)
        }
    }

    public func transactions(
        chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int, limits: TransactionLimits
    ) async throws(StorageError) -> [Transaction] {
        try withState { s in
            guard let quants = s.chains[chain]?.quants, height >= 1, height <= UInt64(quants.count) else { return [] }
            var out = [Transaction]()
            var bytes = 0
            for tx in quants[Int(height - 1)].transactions.dropFirst(max(0, position)) {
                guard out.count < limit else { break }
                if !out.isEmpty, bytes + tx.encodedSize > maxBytes { break }
                bytes += tx.encodedSize
                out.append(tx)
            }
            return out
        }
    }

    public func transaction(id: TransactionID, limits: TransactionLimits) async throws(StorageError) -> StoredTransaction? {
        try withState { s in
            guard let place = s.txByID[id], let quant = s.chains[place.chain]?.quants[Int(place.height - 1)] else { return nil }
            return StoredTransaction(
                transaction: quant.transactions[place.position], height: place.height, position: place.position,
                quantHash: quant.record.hash)
        }
    }

    public func committed(_ ids: [TransactionID]) async throws(StorageError) -> Set<TransactionID> {
        try withState { s in Set(ids.filter { s.txByID[$0] != nil }) }
    }

    public func committed(_ ids: [TransactionID], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError)
        -> Set<TransactionID>
    {
        try withState { s in
            Set(ids.filter { id in s.txByID[id].map { $0.chain == chain && $0.height <= height } ?? false })
        }
    }

    public func commit(_ record: QuantRecord) async throws(StorageError) {
        try withState { (s: inout State) throws(StorageError) in
            let chain = try Self.chain(record.quant.header.chain, in: s)
            let tip = UInt64(chain.quants.count)
            guard record.quant.header.height == tip + 1 else {
                throw StorageError(.conflict, "cannot commit height \(record.quant.header.height): the stored tip is \(tip)")
            }
            var next = s
            try Self.insert(record, into: &next)
            next.chains[record.quant.header.chain]?.log.append(ChainEvent(
                sequence: UInt64(chain.log.count + 1), kind: .connected, height: record.quant.header.height, hash: record.quant.hash,
                transactions: record.quant.transactions.map(ChainEvent.Entry.init)))
            if record.sealedHere, next.sealedOn[record.quant.header.chain]?[record.quant.header.previous] == nil {
                next.sealedOn[record.quant.header.chain, default: [:]][record.quant.header.previous] = SealedQuant(record.quant)
            }
            s = next
        }
    }

    public func sealed(on parent: Hash, chain: ChainID) async throws(StorageError) -> SealedQuant? {
        try withState { s in s.sealedOn[chain]?[parent] }
    }

    public func replace(above ancestor: StoredHeader?, chain id: ChainID, with branch: [QuantRecord], limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]
    {
        try withState { (s: inout State) throws(StorageError) -> [Transaction] in
            var next = s
            var chain = try Self.chain(id, in: next)
            let base = Int(clamping: ancestor?.header.height ?? 0)
            guard base <= chain.quants.count else { throw StorageError(.conflict, "the ancestor is above the stored tip") }
            let removed = chain.quants[base...]
            chain.log += ChainEvent.replacing(
                removed.map { ($0.record.header.height, $0.record.hash, $0.transactions.map(ChainEvent.Entry.init)) },
                with: branch.map(\.quant), after: UInt64(chain.log.count))
            chain.quants.removeSubrange(base...)
            next.chains[id] = chain
            for quant in removed {
                next.quantByHash[quant.record.hash] = nil
                for tx in quant.transactions { next.txByID[tx.id] = nil }
            }
            for record in branch { try Self.insert(record, into: &next) }
            let kept = Set(branch.flatMap { $0.quant.transactions.map(\.id) })
            let orphaned = removed.flatMap(\.transactions).filter { !kept.contains($0.id) }
            for tx in orphaned where next.mempool[tx.id] == nil {
                next.mempool[tx.id] = (next.nextSeq, tx)
                next.nextSeq += 1
            }
            s = next
            return orphaned
        }
    }

    /// Inserts one Quant on `s` (a copy the caller keeps only if every insert succeeds).
    private static func insert(_ record: QuantRecord, into s: inout State) throws(StorageError) {
        let header = record.quant.header
        var chain = try Self.chain(header.chain, in: s)
        guard header.height == UInt64(chain.quants.count) + 1 else {
            throw StorageError(.conflict, "cannot insert height \(header.height) above \(chain.quants.count)")
        }
        guard s.quantByHash[record.quant.hash] == nil else { throw StorageError(.conflict, "Quant \(record.quant.hash.hex) is stored already") }
        let applied = Set(chain.quants.flatMap { $0.events.map(\.change) })
        for event in record.events where applied.contains(event.change) {
            throw StorageError(.conflict, "membership change \(event.change.hex) is applied already")
        }
        for (position, tx) in record.quant.transactions.enumerated() {
            guard s.txByID[tx.id] == nil else { throw StorageError(.replayed, "transaction \(tx.id.hex) is already committed on this chain") }
            s.txByID[tx.id] = (header.chain, header.height, position)
            s.mempool[tx.id] = nil
        }
        s.quantByHash[record.quant.hash] = (header.chain, header.height)
        chain.quants.append((record.stored, record.quant.transactions, record.events))
        s.chains[header.chain] = chain
    }

    // MARK: Events

    public func events(chain: ChainID, after sequence: UInt64, limit: Int, maxTransactions: Int) async throws(StorageError) -> [ChainEvent] {
        try withState { s in
            let log = s.chains[chain]?.log ?? []
            guard sequence < UInt64(log.count) else { return [] }
            return ChainEvent.page(of: log[Int(sequence)...].prefix(max(0, limit)), maxTransactions: maxTransactions)
        }
    }

    public func lastEvent(chain: ChainID) async throws(StorageError) -> UInt64 {
        try withState { s in UInt64(s.chains[chain]?.log.count ?? 0) }
    }

    public func connected(chain: ChainID, height: UInt64, through sequence: UInt64) async throws(StorageError)
        -> (highest: UInt64, hash: Hash?)
    {
        try withState { s in
            let seen = (s.chains[chain]?.log ?? []).prefix(Int(clamping: sequence)).filter { $0.kind == .connected }
            return (seen.map(\.height).max() ?? 0, seen.last { $0.height == height }?.hash)
        }
    }

    // MARK: Membership, evidence, bans

    public func memberEvents(chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> [MemberEvent] {
        try withState { s in
            (s.chains[chain]?.quants ?? []).prefix(Int(clamping: height)).flatMap(\.events)
        }
    }

    public func memberHistory(chain: ChainID, limit: Int) async throws(StorageError) -> [(height: UInt64, event: MemberEvent)] {
        try withState { s in
            let all = (s.chains[chain]?.quants ?? []).flatMap { quant in quant.events.map { (height: quant.record.header.height, event: $0) } }
            return Array(all.suffix(max(0, limit)))
        }
    }

    public func appliedChanges(_ ids: [Hash], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> Set<Hash> {
        try withState { s in
            let applied = Set((s.chains[chain]?.quants ?? []).prefix(Int(clamping: height)).flatMap { $0.events.map(\.change) })
            return Set(ids.filter(applied.contains))
        }
    }

    public func record(_ evidence: Equivocation) async throws(StorageError) {
        try withState { s in
            var list = s.evidence[evidence.chain, default: []]
            guard !list.contains(where: { $0.proposer == evidence.proposer && $0.height == evidence.height }) else { return }
            list.append(evidence)
            s.evidence[evidence.chain] = list.sorted { $0.height < $1.height }
        }
    }

    public func equivocations(chain: ChainID) async throws(StorageError) -> [Equivocation] {
        try withState { s in s.evidence[chain] ?? [] }
    }

    public func equivocators(chain: ChainID) async throws(StorageError) -> Equivocators {
        try withState { s in
            var banned = Equivocators()
            for evidence in s.evidence[chain] ?? [] { banned.record(evidence) }
            for conflict in s.conflicts[chain] ?? [] { banned.record(conflict) }
            return banned
        }
    }

    public func signerState(chain: ChainID) async throws(StorageError) -> SignerState? {
        try withState { s in s.signers[chain] }
    }

    public func save(_ state: SignerState, chain: ChainID) async throws(StorageError) {
        try withState { s in s.signers[chain] = state }
    }

    public func record(_ conflict: FinalityConflict) async throws(StorageError) {
        try withState { s in _ = s.conflicts[conflict.chain, default: []].insert(conflict) }
    }

    public func finalityConflicts(chain: ChainID) async throws(StorageError) -> [FinalityConflict] {
        try withState { s in (s.conflicts[chain] ?? []).sorted { ($0.height, $0.first.hash) < ($1.height, $1.first.hash) } }
    }

    public func validProof(chain: ChainID) async throws(StorageError) -> ValidProof? {
        try withState { s in s.validProofs[chain] }
    }

    public func save(_ proof: ValidProof, chain: ChainID) async throws(StorageError) {
        try withState { s in s.validProofs[chain] = proof }
    }

    public func ban(_ peer: PublicKey, until: Timestamp) async throws(StorageError) {
        try withState { s in s.bans[peer] = max(s.bans[peer] ?? until, until) }
    }

    public func bans(after now: Timestamp) async throws(StorageError) -> [PublicKey: Timestamp] {
        try withState { s in s.bans.filter { $0.value > now } }
    }

    // MARK: Mempool

    public func addToMempool(_ transactions: [Transaction]) async throws(StorageError) -> Set<TransactionID> {
        try withState { s in
            var already = Set<TransactionID>()
            for tx in transactions {
                if s.txByID[tx.id] != nil {
                    already.insert(tx.id)
                } else if s.mempool[tx.id] == nil {
                    s.mempool[tx.id] = (s.nextSeq, tx)
                    s.nextSeq += 1
                }
            }
            return already
        }
    }

    public func removeFromMempool(_ ids: [TransactionID]) async throws(StorageError) {
        try withState { s in for id in ids { s.mempool[id] = nil } }
    }

    public func mempool(chain: ChainID, limit: Int, maxBytes: Int, limits: TransactionLimits) async throws(StorageError) -> [Transaction] {
        try withState { s in
            var out = [Transaction]()
            var bytes = 0
            for entry in s.mempool.values.filter({ $0.tx.chain == chain }).sorted(by: { $0.seq < $1.seq }) {
                guard out.count < limit, out.isEmpty || bytes + entry.tx.encodedSize <= maxBytes else { break }
                bytes += entry.tx.encodedSize
                out.append(entry.tx)
            }
            return out
        }
    }

    public func removeCommittedFromMempool() async throws(StorageError) -> Int {
        try withState { s in
            let stale = s.mempool.keys.filter { s.txByID[$0] != nil }
            for id in stale { s.mempool[id] = nil }
            return stale.count
        }
    }
}
