public import QBCCore

/// Transactions waiting for a Leap, with the state of each. Pure value type: the chain
/// actor owns one and all I/O happens outside it.
public struct Mempool: Sendable {
    enum State: Sendable { case pending, ready, sealing }

    struct Entry: Sendable {
        let transaction: Transaction
        var state: State
    }

    private var entries: [TransactionID: Entry] = [:]
    public let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    public var count: Int { entries.count }
    public func contains(_ id: TransactionID) -> Bool { entries[id] != nil }
    public func transaction(_ id: TransactionID) -> Transaction? { entries[id]?.transaction }

    /// Reserves a slot for a transaction being persisted; false when it is there already.
    mutating func reserve(_ tx: Transaction) -> Bool {
        guard entries[tx.id] == nil else { return false }
        entries[tx.id] = Entry(transaction: tx, state: .pending)
        return true
    }

    mutating func confirm(_ ids: some Sequence<TransactionID>) {
        for id in ids { entries[id]?.state = .ready }
    }

    mutating func remove(_ ids: some Sequence<TransactionID>) {
        for id in ids { entries.removeValue(forKey: id) }
    }

    /// Picks ready transactions for a Quant in the deterministic order (timestamp, then id),
    /// within the count and byte limits, and marks them as being sealed.
    mutating func takeForSealing(limits: QuantLimits) -> [Transaction] {
        let ready = entries.values.filter { $0.state == .ready }.map(\.transaction).sorted(by: Self.sealingOrder)
        var chosen = [Transaction]()
        var bytes = 0
        for tx in ready {
            let size = tx.signingBytes.count + 64
            guard chosen.count < limits.maxTransactions, bytes + size <= limits.maxBytes else { break }
            chosen.append(tx)
            bytes += size
        }
        for tx in chosen { entries[tx.id]?.state = .sealing }
        return chosen
    }

    /// Returns sealing transactions to ready after a failed Leap.
    mutating func release(_ ids: some Sequence<TransactionID>) {
        for id in ids where entries[id]?.state == .sealing { entries[id]?.state = .ready }
    }

    /// Waiting transactions in the deterministic order, for listing.
    public func listed(limit: Int) -> [Transaction] {
        let all: [Transaction] = entries.values.map(\.transaction)
        return Array(all.sorted(by: Self.sealingOrder).prefix(limit))
    }

    /// Timestamp first, then id: the same order on every node.
    static func sealingOrder(_ a: Transaction, _ b: Transaction) -> Bool {
        if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
        return a.id < b.id
    }
}
