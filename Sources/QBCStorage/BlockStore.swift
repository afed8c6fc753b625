public import QBCCore
public import QBCCrypto

/// A committed Quant's header with the chain totals up to it.
public struct StoredHeader: Sendable, Hashable {
    public let header: QuantHeader
    public let hash: Hash
    /// Sum of the work of every Quant up to and including this one.
    public let cumulativeWork: Int64
    /// Number of transactions up to and including this Quant.
    public let cumulativeTransactions: Int64

    public init(header: QuantHeader, hash: Hash, cumulativeWork: Int64, cumulativeTransactions: Int64) {
        self.header = header
        self.hash = hash
        self.cumulativeWork = cumulativeWork
        self.cumulativeTransactions = cumulativeTransactions
    }
}

/// Where a committed transaction sits.
public struct StoredTransaction: Sendable {
    public let transaction: Transaction
    public let height: UInt64
    public let position: Int
    public let quantHash: Hash
}

/// Durable storage of chains: Bangs, Quants, committed transactions and waiting ones.
///
/// Every chain lives in its own namespace (keyed by chain id). Reads are by key or paged;
/// nothing ever loads a whole chain. `commit` is atomic: after a crash a chain is at its
/// last committed Quant.
public protocol BlockStore: Sendable {
    /// Every chain this store holds, in the order they were created.
    func bangs() throws(StorageError) -> [Bang]
    /// Stores a new chain's Bang. Idempotent for the same Bang.
    func create(_ bang: Bang) throws(StorageError)
    /// The chain's highest committed Quant, or nil at the Bang.
    func tip(chain: ChainID) throws(StorageError) -> StoredHeader?
    func header(chain: ChainID, height: UInt64) throws(StorageError) -> StoredHeader?
    func height(ofQuant hash: Hash) throws(StorageError) -> (chain: ChainID, height: UInt64)?
    /// Up to `limit` headers from `height` upward.
    func headers(chain: ChainID, from height: UInt64, limit: Int) throws(StorageError) -> [StoredHeader]
    func transactions(chain: ChainID, height: UInt64, limits: TransactionLimits) throws(StorageError) -> [Transaction]
    func transaction(id: TransactionID, limits: TransactionLimits) throws(StorageError) -> StoredTransaction?
    /// Which of `ids` are already committed (on any chain).
    func committed(_ ids: [TransactionID]) throws(StorageError) -> Set<TransactionID>
    /// Commits `quant` on top of `parent` atomically, with the membership changes it applies, and
    /// removes its transactions from the stored mempool.
    func commit(_ quant: Quant, parent: StoredHeader?, events: [MemberEvent]) throws(StorageError) -> StoredHeader
    /// Which of `ids` are committed on `chain` at or below `height` (replay checks for a fork).
    func committed(_ ids: [TransactionID], chain: ChainID, atOrBelow height: UInt64) throws(StorageError) -> Set<TransactionID>
    /// Replaces every Quant above `ancestor` with `branch` in one database transaction (a fork
    /// switch). Transactions of the removed Quants that the branch does not hold go back to the
    /// stored mempool; they are returned. `ancestor` is nil for the Bang.
    /// `events[i]` are the membership changes `branch[i]` applies.
    func replace(
        above ancestor: StoredHeader?, chain: ChainID, with branch: [Quant], events: [[MemberEvent]], limits: TransactionLimits
    ) throws(StorageError) -> (tip: StoredHeader, orphaned: [Transaction])
    /// The chain's committed membership changes at or below `height`, in chain order.
    func memberEvents(chain: ChainID, atOrBelow height: UInt64) throws(StorageError) -> [MemberEvent]
    /// Which of the membership change ids are already applied on `chain` at or below `height`.
    func appliedChanges(_ ids: [Hash], chain: ChainID, atOrBelow height: UInt64) throws(StorageError) -> Set<Hash>
    /// Records that `proposer` signed two different Quants at `height` (proof of authority).
    func recordEquivocation(chain: ChainID, proposer: PublicKey, height: UInt64, hashes: (Hash, Hash)) throws(StorageError)
    /// Every proposer recorded as an equivocator on `chain`.
    func equivocators(chain: ChainID) throws(StorageError) -> Set<PublicKey>
    /// Persists admitted transactions so the mempool survives a restart.
    func addToMempool(_ transactions: [Transaction]) throws(StorageError)
    func removeFromMempool(_ ids: [TransactionID]) throws(StorageError)
    /// The stored mempool of a chain, in admission order, at most `limit` entries.
    func mempool(chain: ChainID, limit: Int, limits: TransactionLimits) throws(StorageError) -> [Transaction]
}

/// A storage failure, with the underlying error kept for logs.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case io, corrupt, locked, conflict }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension BlockStore {
    /// Commits a Quant that changes no membership.
    public func commit(_ quant: Quant, parent: StoredHeader?) throws(StorageError) -> StoredHeader {
        try commit(quant, parent: parent, events: [])
    }
}
