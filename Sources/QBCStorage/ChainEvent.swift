public import QBCCore
public import QBCCrypto

/// One change to a chain's committed history, numbered in the order the store made it: the
/// event stream's source (documentation/events.md). Stored in the same atomic step as the change
/// itself, so a crash can never leave a change without its event or an event without its change.
public struct ChainEvent: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        /// A Quant became part of the chain (a commit, or a fork switch adding it).
        case connected = 1
        /// A fork switch or rollback removed the Quant; its transactions went back to the mempool
        /// unless the new branch holds them.
        case disconnected = 2
    }

    /// What the stream says of each transaction: enough to filter on without reading it.
    public struct Entry: Sendable, Equatable {
        public let id: TransactionID
        public let sender: PublicKey
        public let contentType: String

        public init(id: TransactionID, sender: PublicKey, contentType: String) {
            self.id = id
            self.sender = sender
            self.contentType = contentType
        }

        public init(_ tx: Transaction) { self.init(id: tx.id, sender: tx.sender, contentType: tx.body.contentType) }
    }

    /// 1, 2, 3 … per chain, without gaps.
    public let sequence: UInt64
    public let kind: Kind
    public let height: UInt64
    public let hash: Hash
    public let transactions: [Entry]

    public init(sequence: UInt64, kind: Kind, height: UInt64, hash: Hash, transactions: [Entry]) {
        self.sequence = sequence
        self.kind = kind
        self.height = height
        self.hash = hash
        self.transactions = transactions
    }

    /// The events a fork switch (or, with an empty branch, a rollback) makes: the removed Quants
    /// disconnected from the top down, then the branch connected from the bottom up.
    public static func replacing(_ removed: [(height: UInt64, hash: Hash, transactions: [Entry])], with branch: [Quant], after last: UInt64)
        -> [ChainEvent]
    {
        var events = [ChainEvent]()
        var sequence = last
        for quant in removed.sorted(by: { $0.height > $1.height }) {
            sequence += 1
            events.append(ChainEvent(sequence: sequence, kind: .disconnected, height: quant.height, hash: quant.hash, transactions: quant.transactions))
        }
        for quant in branch {
            sequence += 1
            events.append(ChainEvent(
                sequence: sequence, kind: .connected, height: quant.header.height, hash: quant.hash, transactions: quant.transactions.map(Entry.init)))
        }
        return events
    }

    /// The entries' stored form: per transaction its id, sender and content type (u8 length, UTF-8).
    public static func encode(_ entries: [Entry]) -> [UInt8] {
        var w = CanonicalWriter(capacity: entries.count * 80)
        for entry in entries { append(entry.id, entry.sender, entry.contentType, to: &w) }
        return w.bytes
    }

    /// The same form, written straight from a Quant's transactions: a commit makes no `Entry`
    /// per transaction (they were 3% of a Leap).
    public static func encode(_ transactions: [Transaction]) -> [UInt8] {
        var w = CanonicalWriter(capacity: transactions.count * 80)
        for tx in transactions { append(tx.id, tx.sender, tx.contentType, to: &w) }
        return w.bytes
    }

    private static func append(_ id: TransactionID, _ sender: PublicKey, _ contentType: String, to w: inout CanonicalWriter) {
        w.fixed(id.bytes)
        w.fixed(sender.bytes)
        w.string8(contentType)
    }

    /// The leading `events` up to the one that brings the transactions they name to
    /// `maxTransactions`, and always the first: a page bounded in memory, not only in count.
    public static func page(of events: some Sequence<ChainEvent>, maxTransactions: Int) -> [ChainEvent] {
        var page = [ChainEvent]()
        var transactions = 0
        for event in events {
            guard transactions < maxTransactions || page.isEmpty else { break }
            transactions += event.transactions.count
            page.append(event)
        }
        return page
    }

    public static func decode(_ bytes: [UInt8]) throws(StorageError) -> [Entry] {
        var r = CanonicalReader(bytes)
        var entries = [Entry]()
        do {
            while !r.isAtEnd {
                let id = try TransactionID(bytes: try r.fixed(32))
                let sender = PublicKey(unchecked: try r.fixed(32))
                entries.append(Entry(id: id, sender: sender, contentType: try r.string8()))
            }
        } catch {
            throw StorageError(.corrupt, "a stored event's transactions do not decode: \(error)")
        }
        return entries
    }
}
