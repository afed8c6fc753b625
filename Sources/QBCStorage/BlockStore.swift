public import QBCCore
public import QBCCrypto

/// Durable storage of chains: Bangs, Quants, committed transactions and waiting ones.
///
/// Every chain lives in its own namespace (keyed by chain id). Reads are by key or paged;
/// nothing ever loads a whole chain. Each call that writes is one atomic step: after a crash a
/// chain is at its last committed Quant, and what a call stored is either all there or not at
/// all. Calls are `async` so that implementations doing blocking I/O keep it off Swift's
/// cooperative threads. `documentation/storage.md` states the guarantees; the conformance suite
/// in the tests holds every implementation to them.
public protocol BlockStore: Sendable {
    /// Every chain this store holds, in the order they were created.
    func bangs() async throws(StorageError) -> [Bang]
    /// Stores a new chain's Bang. Idempotent for the same Bang.
    func create(_ bang: Bang) async throws(StorageError)

    /// The chain's highest committed Quant, or nil at the Bang.
    func tip(chain: ChainID) async throws(StorageError) -> StoredHeader?
    func header(chain: ChainID, height: UInt64) async throws(StorageError) -> StoredHeader?
    func height(ofQuant hash: Hash) async throws(StorageError) -> (chain: ChainID, height: UInt64)?
    /// Up to `limit` headers from `height` upward.
    func headers(chain: ChainID, from height: UInt64, limit: Int) async throws(StorageError) -> [StoredHeader]
    /// The transactions of the Quant at `height` from position `from`, at most `limit` of them and,
    /// past the first, at most `maxBytes` of binary forms (for answers streamed in bounded pieces).
    func transactions(chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int, limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]
    /// The binary forms of what `transactions` gives, as stored (serving sync pages decodes none).
    func encodedTransactions(chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int)
        async throws(StorageError) -> [[UInt8]]
    func transaction(id: TransactionID, limits: TransactionLimits) async throws(StorageError) -> StoredTransaction?
    /// Which of `ids` are committed (on any chain).
    func committed(_ ids: [TransactionID]) async throws(StorageError) -> Set<TransactionID>
    /// Which of `ids` are committed on `chain` at or below `height` (replay checks for a fork).
    func committed(_ ids: [TransactionID], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> Set<TransactionID>

    /// Commits a Quant as the child of the stored tip, with the membership changes it applies, and
    /// removes its transactions from the stored mempool, in one atomic step. Refuses a height that
    /// is not the stored tip + 1, and a transaction id already committed (`replayed`). A Quant this node sealed
    /// (`record.sealedHere`) records its parent as sealed on, in the same step.
    func commit(_ record: QuantRecord) async throws(StorageError)
    /// The Quant this node sealed on `parent` (a Quant hash, or the chain id for height 1) of
    /// `chain`, whatever became of it: its header and transaction ids; nil when it sealed none.
    func sealed(on parent: Hash, chain: ChainID) async throws(StorageError) -> SealedQuant?
    /// Replaces every Quant above `ancestor` (nil: the Bang) with `branch` in one atomic step: a
    /// fork switch, or with an empty branch a rollback. Transactions of the removed Quants that
    /// the branch does not hold go back to the stored mempool and are returned.
    func replace(above ancestor: StoredHeader?, chain: ChainID, with branch: [QuantRecord], limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]

    /// Up to `limit` of the chain's events numbered above `sequence`, in order, and no more once
    /// they name `maxTransactions` transactions between them (the first is returned whatever its
    /// size): a page of big Quants' events is bounded in memory, not only in count. Every
    /// commit, fork switch and rollback stores its events in the same atomic step as itself.
    func events(chain: ChainID, after sequence: UInt64, limit: Int, maxTransactions: Int) async throws(StorageError) -> [ChainEvent]
    /// The chain's last event number, 0 before any.
    func lastEvent(chain: ChainID) async throws(StorageError) -> UInt64
    /// The highest height connected by the events numbered up to `sequence`, and the hash of the
    /// last Quant connected at `height` by those events (nil if none was).
    func connected(chain: ChainID, height: UInt64, through sequence: UInt64) async throws(StorageError) -> (highest: UInt64, hash: Hash?)

    /// The chain's committed membership changes at or below `height`, in chain order.
    func memberEvents(chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> [MemberEvent]
    /// The chain's latest `limit` membership changes with the heights they committed at, oldest first.
    func memberHistory(chain: ChainID, limit: Int) async throws(StorageError) -> [(height: UInt64, event: MemberEvent)]
    /// Which of the membership change ids are already applied on `chain` at or below `height`.
    func appliedChanges(_ ids: [Hash], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> Set<Hash>

    /// Records evidence that an authority sealed two Quants on one parent. Idempotent.
    func record(_ evidence: Equivocation) async throws(StorageError)
    /// Every piece of evidence recorded for `chain` (to pass on to peers).
    func equivocations(chain: ChainID) async throws(StorageError) -> [Equivocation]
    /// Authorities with evidence against them on `chain`, each with its lowest equivocation height
    /// (evidence recorded by versions before 0.2 kept only hashes and counts from height 0).
    func equivocators(chain: ChainID) async throws(StorageError) -> Equivocators

    /// Persists admitted transactions so the mempool survives a restart, in one atomic step with
    /// the check that they are not committed: returns the ids that are committed already, which are
    /// not stored. So a transaction admitted while a Quant holding it is committed never outlives
    /// that commit in the stored mempool.
    func addToMempool(_ transactions: [Transaction]) async throws(StorageError) -> Set<TransactionID>
    func removeFromMempool(_ ids: [TransactionID]) async throws(StorageError)
    /// The stored mempool of a chain, in admission order: at most `limit` entries and, past the
    /// first, at most `maxBytes` of binary forms.
    func mempool(chain: ChainID, limit: Int, maxBytes: Int, limits: TransactionLimits) async throws(StorageError) -> [Transaction]
    /// Deletes stored mempool entries that are committed (left by versions before 0.2, whose
    /// admission could race a commit); returns how many there were.
    func removeCommittedFromMempool() async throws(StorageError) -> Int

    /// BFT: this node's signer state for `chain` (its last votes and its lock), nil when none.
    func signerState(chain: ChainID) async throws(StorageError) -> SignerState?
    /// Stores the signer state; the node does so before any vote it signs leaves it.
    func save(_ state: SignerState, chain: ChainID) async throws(StorageError)
    /// BFT: records two certified Quants at one height (idempotent); their common signers count
    /// in `equivocators` from then on.
    func record(_ conflict: FinalityConflict) async throws(StorageError)
    func finalityConflicts(chain: ChainID) async throws(StorageError) -> [FinalityConflict]
    /// BFT: the Quant this node last saw a quorum prevote for, with those prevotes.
    func validProof(chain: ChainID) async throws(StorageError) -> ValidProof?
    func save(_ proof: ValidProof, chain: ChainID) async throws(StorageError)

    /// Records that a peer is banned until `until` (so a restart keeps the ban).
    func ban(_ peer: PublicKey, until: Timestamp) async throws(StorageError)
    /// Peers banned beyond `now`, with the end of each ban.
    func bans(after now: Timestamp) async throws(StorageError) -> [PublicKey: Timestamp]
}

/// A Quant as it is committed: with its stored header (the chain totals up to it, computed by the
/// node from its engine) and the membership changes it applies.
public struct QuantRecord: Sendable {
    public let quant: Quant
    public let stored: StoredHeader
    public let events: [MemberEvent]
    /// True for a Quant this node sealed itself.
    public let sealedHere: Bool

    public init(quant: Quant, stored: StoredHeader, events: [MemberEvent] = [], sealedHere: Bool = false) {
        self.quant = quant
        self.stored = stored
        self.events = events
        self.sealedHere = sealedHere
    }
}

/// A committed Quant's header with the chain totals up to it.
public struct StoredHeader: Sendable, Hashable {
    public let header: QuantHeader
    public let hash: Hash
    /// Sum of the work of every Quant up to and including this one.
    public let cumulativeWork: Int64
    /// Number of transactions up to and including this Quant.
    public let cumulativeTransactions: Int64
    /// BFT: the commit certificate that makes the Quant final.
    public let certificate: CommitCertificate?

    public init(header: QuantHeader, hash: Hash, cumulativeWork: Int64, cumulativeTransactions: Int64, certificate: CommitCertificate? = nil) {
        self.header = header
        self.hash = hash
        self.cumulativeWork = cumulativeWork
        self.cumulativeTransactions = cumulativeTransactions
        self.certificate = certificate
    }

    /// The stored header of `quant` on top of `parent` (nil: the Bang), weighing `work`.
    public init(_ quant: Quant, parent: StoredHeader?, work: Int64) {
        self.init(
            header: quant.header, hash: quant.hash, cumulativeWork: (parent?.cumulativeWork ?? 0) &+ work,
            cumulativeTransactions: (parent?.cumulativeTransactions ?? 0) + Int64(quant.transactions.count),
            certificate: quant.certificate)
    }
}

/// Where a committed transaction sits.
public struct StoredTransaction: Sendable {
    public let transaction: Transaction
    public let height: UInt64
    public let position: Int
    public let quantHash: Hash

    public init(transaction: Transaction, height: UInt64, position: Int, quantHash: Hash) {
        self.transaction = transaction
        self.height = height
        self.position = position
        self.quantHash = quantHash
    }
}

/// A storage failure, with the underlying error kept for logs.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        case io, corrupt, locked, conflict
        /// A Quant to commit holds a transaction that is committed already: a replay, which the
        /// node refuses as a rule (`commit` is where a received Quant's replays are found).
        case replayed
    }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension BlockStore {
    /// Stores that keep decoded transactions encode them again.
    public func encodedTransactions(chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int)
        async throws(StorageError) -> [[UInt8]]
    {
        try await transactions(chain: chain, height: height, from: position, limit: limit, maxBytes: maxBytes, limits: TransactionLimits.standard.ceiling)
            .map(\.encoded)
    }
}

extension BlockStore {
    /// The stored mempool of a chain, in admission order, at most `limit` entries.
    public func mempool(chain: ChainID, limit: Int, limits: TransactionLimits) async throws(StorageError) -> [Transaction] {
        try await mempool(chain: chain, limit: limit, maxBytes: .max, limits: limits)
    }

    /// Every transaction of the Quant at `height`.
    public func transactions(chain: ChainID, height: UInt64, limits: TransactionLimits) async throws(StorageError) -> [Transaction] {
        try await transactions(chain: chain, height: height, from: 0, limit: .max, maxBytes: .max, limits: limits)
    }
}

/// What a node keeps of each Quant it sealed, so that it can propose the very same Quant again if
/// a rollback makes its parent the tip once more (a different one would be evidence against it).
public struct SealedQuant: Sendable, Equatable {
    public let header: QuantHeader
    public let transactions: [TransactionID]

    public init(header: QuantHeader, transactions: [TransactionID]) {
        self.header = header
        self.transactions = transactions
    }

    public init(_ quant: Quant) { self.init(header: quant.header, transactions: quant.transactions.map(\.id)) }
}
