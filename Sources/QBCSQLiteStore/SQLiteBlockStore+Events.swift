import Foundation
import GRDB
public import QBCCore
public import QBCCrypto
public import QBCStorage

/// The event log (`chain_event`), written inside the same transactions as the commits it tells of.
extension SQLiteBlockStore {
    public func events(chain: ChainID, after sequence: UInt64, limit: Int, maxTransactions: Int) async throws(StorageError) -> [ChainEvent] {
        try await read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT seq, kind, height, hash, txs FROM chain_event WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [Data(chain.bytes), Int64(clamping: sequence), max(0, limit)])
            // `ChainEvent.page`'s rule, on a cursor: no row past the budget is decoded.
            var events = [ChainEvent]()
            var transactions = 0
            while transactions < maxTransactions || events.isEmpty, let row = try rows.next() {
                let event = try Self.event(row)
                transactions += event.transactions.count
                events.append(event)
            }
            return events
        }
    }

    public func lastEvent(chain: ChainID) async throws(StorageError) -> UInt64 {
        try await read { db in try Self.lastEvent(chain: Data(chain.bytes), in: db) }
    }

    public func connected(chain: ChainID, height: UInt64, through sequence: UInt64) async throws(StorageError)
        -> (highest: UInt64, hash: Hash?)
    {
        try await read { db in
            let chainData = Data(chain.bytes)
            let through = Int64(clamping: sequence)
            let highest = try Int64.fetchOne(
                db, sql: "SELECT MAX(height) FROM chain_event WHERE chain = ? AND seq <= ? AND kind = 1", arguments: [chainData, through]) ?? 0
            let hash = try Data.fetchOne(
                db, sql: "SELECT hash FROM chain_event WHERE chain = ? AND height = ? AND seq <= ? AND kind = 1 ORDER BY seq DESC LIMIT 1",
                arguments: [chainData, Int64(clamping: height), through])
            return (UInt64(max(0, highest)), try hash.map { data throws(StorageError) in try Self.hash(data) })
        }
    }

    static func lastEvent(chain: Data, in db: Database) throws -> UInt64 {
        UInt64(max(0, try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM chain_event WHERE chain = ?", arguments: [chain]) ?? 0))
    }

    static func insert(_ events: [ChainEvent], chain: ChainID, in db: Database) throws {
        let chainData = Data(chain.bytes)
        for event in events {
            try insertEvent(
                chain: chainData, sequence: event.sequence, kind: event.kind, height: event.height, hash: event.hash,
                entries: ChainEvent.encode(event.transactions), in: db)
        }
    }

    private static func insertEvent(
        chain: Data, sequence: UInt64, kind: ChainEvent.Kind, height: UInt64, hash: Hash, entries: [UInt8], in db: Database
    ) throws {
        try db.cachedStatement(sql: "INSERT INTO chain_event (chain, seq, kind, height, hash, txs) VALUES (?, ?, ?, ?, ?, ?)").execute(
            arguments: [chain, Int64(clamping: sequence), Int64(kind.rawValue), Int64(clamping: height), Data(hash.bytes), Data(entries)])
    }

    /// A commit's one event.
    static func connect(_ quant: Quant, in db: Database) throws {
        let chain = Data(quant.header.chain.bytes)
        try insertEvent(
            chain: chain, sequence: try lastEvent(chain: chain, in: db) + 1, kind: .connected, height: quant.header.height,
            hash: quant.hash, entries: ChainEvent.encode(quant.transactions), in: db)
    }

    /// The Quants above `base` as the events of a fork switch name them, with `transactions`
    /// (the removed ones, by height) already read.
    static func removedQuants(chain: Data, above base: Int64, transactions: [(height: Int64, tx: Transaction)], in db: Database) throws
        -> [(height: UInt64, hash: Hash, transactions: [ChainEvent.Entry])]
    {
        let byHeight = Dictionary(grouping: transactions, by: \.height)
        return try Row.fetchAll(db, sql: "SELECT height, hash FROM quant WHERE chain = ? AND height > ?", arguments: [chain, base]).map { row in
            let height: Int64 = row["height"]
            return (UInt64(height), try hash(row["hash"]), (byHeight[height] ?? []).map { ChainEvent.Entry($0.tx) })
        }
    }

    private static func event(_ row: Row) throws -> ChainEvent {
        let kind: Int64 = row["kind"]
        guard let parsed = ChainEvent.Kind(rawValue: UInt8(clamping: kind)) else { throw StorageError(.corrupt, "a stored event has kind \(kind)") }
        let seq: Int64 = row["seq"]
        let height: Int64 = row["height"]
        let txs: Data = row["txs"]
        return ChainEvent(
            sequence: UInt64(seq), kind: parsed, height: UInt64(height), hash: try hash(row["hash"]),
            transactions: try ChainEvent.decode(Array(txs)))
    }

    private static func hash(_ data: Data) throws(StorageError) -> Hash {
        do { return try Hash(bytes: Array(data)) } catch { throw StorageError(.corrupt, "a stored hash is not 32 bytes") }
    }

    /// `v6-events`: the log, with one `connected` event per Quant already stored, in height order.
    static func backfillEvents(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE chain_event (
                chain BLOB NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL, height INTEGER NOT NULL,
                hash BLOB NOT NULL, txs BLOB NOT NULL, PRIMARY KEY (chain, seq)) WITHOUT ROWID;
            CREATE INDEX chain_event_by_height ON chain_event(chain, height, seq);
            """)
        let quants = try Row.fetchCursor(db, sql: "SELECT chain, height, hash FROM quant ORDER BY chain, height")
        let entries = try db.makeStatement(sql: "SELECT body FROM tx WHERE chain = ? AND height = ? ORDER BY position")
        let insert = try db.makeStatement(sql: "INSERT INTO chain_event (chain, seq, kind, height, hash, txs) VALUES (?, ?, 1, ?, ?, ?)")
        while let row = try quants.next() {
            let chain: Data = row["chain"]
            let height: Int64 = row["height"]
            let hash: Data = row["hash"]
            let txs = try Row.fetchAll(entries, arguments: [chain, height]).map {
                ChainEvent.Entry(try transaction($0["body"], limits: TransactionLimits.standard.ceiling))
            }
            // Heights start at 1 and have no gaps, so the height is the event's number.
            try insert.execute(arguments: [chain, height, height, hash, Data(ChainEvent.encode(txs))])
        }
    }
}
