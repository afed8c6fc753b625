import HeapModule
import QBCCrypto
public import QBCCore

/// Transactions waiting for a Leap, with the state of each. Pure value type: the chain
/// actor owns one and all I/O happens outside it.
///
/// Ready transactions also sit in a min-heap ordered by (timestamp, id), so a Leap takes the
/// first k in O(k log n) however large the mempool is.
public struct Mempool: Sendable {
    enum State: Sendable { case pending, ready, sealing }

    struct Entry: Sendable {
        let transaction: Transaction
        var state: State
    }

    /// The sealing order: timestamp first, then id, the same on every node.
    struct Key: Comparable, Sendable {
        let timestamp: Timestamp
        /// Inline words in the id's byte order: a comparison never reads the id's array.
        let id: HashKey
        init(_ tx: Transaction) {
            timestamp = tx.timestamp
            id = HashKey(tx.id)
        }
        static func < (a: Key, b: Key) -> Bool {
            if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
            return a.id < b.id
        }
    }

    /// Keyed inline (`HashKey`): with hundreds of thousands waiting, a `Hash` key's array was a
    /// cache miss on every probe of the commit's and admission's lookups (issue 18).
    private var entries: [HashKey: Entry] = [:]
    private var ready = Heap<Key>()
    public let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    public var count: Int { entries.count }
    /// Encoded bytes of every waiting transaction (`qbc_mempool_bytes`).
    public private(set) var bytes = 0
    public func contains(_ id: TransactionID) -> Bool { entries[HashKey(id)] != nil }
    public func transaction(_ id: TransactionID) -> Transaction? { entries[HashKey(id)]?.transaction }
    /// Ids of waiting transactions that match `predicate` (for purges after membership changes).
    func ids(where predicate: (Transaction) -> Bool) -> [TransactionID] {
        entries.values.filter { predicate($0.transaction) }.map(\.transaction.id)
    }

    /// Reserves a slot for a transaction being persisted; false when it is there already.
    mutating func reserve(_ tx: Transaction) -> Bool {
        let key = HashKey(tx.id)
        // One probe when it is new (the usual case); put back what was there when it was not.
        if let present = entries.updateValue(Entry(transaction: tx, state: .pending), forKey: key) {
            entries[key] = present
            return false
        }
        pendingCount += 1
        bytes += tx.encodedSize
        return true
    }

    /// Transactions reserved but not yet persisted: waiting, but not sealable yet.
    private(set) var pendingCount = 0
    /// Transactions a Leap could take now (waiting and persisted, not being sealed).
    public var sealableCount: Int { entries.count - pendingCount - sealingCount }
    private var sealingCount = 0

    /// Makes persisted transactions sealable.
    mutating func confirm(_ ids: some Sequence<TransactionID>) { makeReady(ids, from: .pending) }

    /// Removes transactions in any state; their heap keys are skipped when reached.
    mutating func remove(_ ids: some Sequence<TransactionID>) {
        for id in ids {
            guard let removed = entries.removeValue(forKey: HashKey(id)) else { continue }
            bytes -= removed.transaction.encodedSize
            switch removed.state {
            case .pending: pendingCount -= 1
            case .sealing: sealingCount -= 1
            default: break
            }
        }
    }

    /// Takes the first ready transactions in sealing order, within the count and byte limits,
    /// and marks them as being sealed.
    mutating func takeForSealing(limits: QuantLimits) -> [Transaction] {
        var chosen = [Transaction]()
        var bytes = 0
        while chosen.count < limits.maxTransactions, let key = ready.min {
            // Keys of removed or re-added transactions may linger in the heap: skip them.
            guard let index = entries.index(forKey: key.id), entries.values[index].state == .ready else {
                _ = ready.popMin()
                continue
            }
            let entry = entries.values[index]
            let size = entry.transaction.encodedSize
            guard bytes + size <= limits.maxBytes else { break }
            _ = ready.popMin()
            entries.values[index].state = .sealing
            sealingCount += 1
            chosen.append(entry.transaction)
            bytes += size
        }
        return chosen
    }

    /// Takes exactly these transactions, in this order, for sealing; nil (taking none) unless
    /// every one is ready.
    mutating func take(exactly ids: [TransactionID]) -> [Transaction]? {
        var chosen = [Transaction]()
        let keys = ids.map(HashKey.init)
        for key in keys {
            guard let entry = entries[key], entry.state == .ready else { return nil }
            chosen.append(entry.transaction)
        }
        // Their heap keys stay behind and are skipped when reached, as for removed ones.
        for key in keys { entries[key]?.state = .sealing }
        sealingCount += ids.count
        return chosen
    }

    /// Returns sealing transactions to ready after a failed Leap.
    mutating func release(_ ids: some Sequence<TransactionID>) { makeReady(ids, from: .sealing) }

    private mutating func makeReady(_ ids: some Sequence<TransactionID>, from state: State) {
        for id in ids {
            let key = HashKey(id)
            guard let index = entries.index(forKey: key), entries.values[index].state == state else { continue }
            if state == .pending { pendingCount -= 1 } else if state == .sealing { sealingCount -= 1 }
            entries.values[index].state = .ready
            ready.insert(Key(entries.values[index].transaction))
        }
    }

    /// Waiting transactions in sealing order, for listing.
    public func listed(limit: Int) -> [Transaction] {
        var all: [Transaction] = entries.values.map(\.transaction)
        all.sort { Key($0) < Key($1) }
        return Array(all.prefix(limit))
    }
}
