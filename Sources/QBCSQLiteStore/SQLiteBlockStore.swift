import Foundation
import GRDB
public import QBCCore
public import QBCCrypto
public import QBCStorage

/// The embedded default store: SQLite through GRDB, in WAL mode with `synchronous = FULL`,
/// one database transaction per committed Quant. Schema: documentation/storage.md.
///
/// Calls run on GRDB's own dispatch queues, so a node's cooperative threads never wait on the
/// disk. `blocking: true` runs them on the caller's thread instead: the deterministic simulator
/// uses it, where one thread runs everything and must see every step in order.
public final class SQLiteBlockStore: BlockStore {
    let pool: DatabasePool
    /// Kept for the store's lifetime so no other node opens the same folder.
    private let lock: DataDirectoryLock
    private let blocking: Bool

    /// Opens (creating if needed) `directory/qbc.sqlite`, taking the folder's lock first.
    public init(directory: String, blocking: Bool = false) throws(StorageError) {
        lock = try DataDirectoryLock(directory: directory)
        self.blocking = blocking
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.maximumReaderCount = 4
        let path = (directory as NSString).appendingPathComponent("qbc.sqlite")
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if try pool.read({ try Self.migrator.hasBeenSuperseded($0) }) {
                throw StorageError(.corrupt, "\(path) was written by a newer version of qbc (it has migrations this one does not know)")
            }
            try Self.migrator.migrate(pool)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.io, "cannot open \(path): \(error)")
        }
    }

    // MARK: Chains

    public func bangs() async throws(StorageError) -> [Bang] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT bang FROM chain ORDER BY rowid").map { row in
                let bytes: Data = row["bang"]
                do { return try Bang(decoding: Array(bytes)) } catch {
                    throw StorageError(.corrupt, "stored Bang does not decode: \(error)")
                }
            }
        }
    }

    public func create(_ bang: Bang) async throws(StorageError) {
        try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO chain (id, name, bang) VALUES (?, ?, ?)",
                arguments: [Data(bang.id.bytes), bang.rules.name, Data(bang.encoded)])
        }
    }

    // MARK: Quants

    static let headerColumns = "header, hash, cumulative_work, cumulative_tx, certificate"

    public func tip(chain: ChainID) async throws(StorageError) -> StoredHeader? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.headerColumns) FROM quant WHERE chain = ? ORDER BY height DESC LIMIT 1",
                arguments: [Data(chain.bytes)]
            ).map(Self.storedHeader)
        }
    }

    public func header(chain: ChainID, height: UInt64) async throws(StorageError) -> StoredHeader? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.headerColumns) FROM quant WHERE chain = ? AND height = ?",
                arguments: [Data(chain.bytes), Int64(clamping: height)]
            ).map(Self.storedHeader)
        }
    }

    public func height(ofQuant hash: Hash) async throws(StorageError) -> (chain: ChainID, height: UInt64)? {
        let found: (Data, Int64)? = try await read { db in
            try Row.fetchOne(db, sql: "SELECT chain, height FROM quant WHERE hash = ?", arguments: [Data(hash.bytes)])
                .map { ($0["chain"], $0["height"]) }
        }
        return found.map { (Hash(unchecked: Array($0.0)), UInt64(clamping: $0.1)) }
    }

    public func headers(chain: ChainID, from height: UInt64, limit: Int) async throws(StorageError) -> [StoredHeader] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.headerColumns) FROM quant WHERE chain = ? AND height >= ? ORDER BY height LIMIT ?",
                arguments: [Data(chain.bytes), Int64(clamping: height), limit]
            ).map(Self.storedHeader)
        }
    }

    public func transactions(
        chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int, limits: TransactionLimits
    ) async throws(StorageError) -> [Transaction] {
        try await read { db in
            // A cursor, so rows past the byte bound are never loaded.
            let rows = try Row.fetchCursor(
                db, sql: "SELECT body FROM tx WHERE chain = ? AND height = ? AND position >= ? ORDER BY position LIMIT ?",
                arguments: [Data(chain.bytes), Int64(clamping: height), position, Int64(clamping: limit)])
            return try Self.transactions(from: rows, maxBytes: maxBytes, limits: limits)
        }
    }

    public func transaction(id: TransactionID, limits: TransactionLimits) async throws(StorageError) -> StoredTransaction? {
        try await read { db in
            guard let row = try Row.fetchOne(
                db, sql: """
                    SELECT tx.body, tx.height, tx.position, quant.hash FROM tx
                    JOIN quant ON quant.chain = tx.chain AND quant.height = tx.height WHERE tx.id = ?
                    """, arguments: [Data(id.bytes)])
            else { return nil }
            let height: Int64 = row["height"]
            let hash: Data = row["hash"]
            return StoredTransaction(
                transaction: try Self.transaction(row["body"], limits: limits), height: UInt64(clamping: height),
                position: row["position"], quantHash: Hash(unchecked: Array(hash)))
        }
    }

    public func committed(_ ids: [TransactionID]) async throws(StorageError) -> Set<TransactionID> {
        guard !ids.isEmpty else { return [] }
        return try await read { db in try Self.committed(ids, in: db) }
    }

    static func committed(_ ids: [TransactionID], in db: Database) throws -> Set<TransactionID> {
        let statement = try db.cachedStatement(sql: "SELECT 1 FROM tx WHERE id = ?")
        var found = Set<TransactionID>()
        for id in ids where try Bool.fetchOne(statement, arguments: [Data(id.bytes)]) != nil {
            found.insert(id)
        }
        return found
    }

    public func committed(_ ids: [TransactionID], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError)
        -> Set<TransactionID>
    {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM tx WHERE id = ? AND chain = ? AND height <= ?")
            var found = Set<TransactionID>()
            let chainData = Data(chain.bytes)
            let limit = Int64(clamping: height)
            for id in ids where try Bool.fetchOne(statement, arguments: [Data(id.bytes), chainData, limit]) != nil {
                found.insert(id)
            }
            return found
        }
    }

    public func commit(_ record: QuantRecord) async throws(StorageError) {
        let height = Int64(clamping: record.quant.header.height)
        try await write { db in
            let tip = try Int64.fetchOne(
                db, sql: "SELECT MAX(height) FROM quant WHERE chain = ?", arguments: [Data(record.quant.header.chain.bytes)])
            guard (tip ?? 0) == height - 1 else {
                throw StorageError(.conflict, "cannot commit height \(height): the stored tip is \(tip ?? 0)")
            }
            try Self.insert(record, in: db)
            try Self.connect(record.quant, in: db)
            if record.sealedHere {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO sealed_on (chain, parent, header, tx_ids) VALUES (?, ?, ?, ?)",
                    arguments: [
                        Data(record.quant.header.chain.bytes), Data(record.quant.header.previous.bytes),
                        Data(record.quant.header.encoded), Data(record.quant.transactions.flatMap(\.id.bytes)),
                    ])
            }
        }
    }

    public func sealed(on parent: Hash, chain: ChainID) async throws(StorageError) -> SealedQuant? {
        let found: (Data, Data)? = try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT header, tx_ids FROM sealed_on WHERE chain = ? AND parent = ?",
                arguments: [Data(chain.bytes), Data(parent.bytes)]
            ).map { ($0["header"], $0["tx_ids"]) }
        }
        guard let (headerBytes, idBytes) = found else { return nil }
        guard idBytes.count % 32 == 0, let header = try? QuantHeader(decoding: Array(headerBytes)) else {
            throw StorageError(.corrupt, "the stored record of a Quant sealed here on \(parent.hex) does not decode")
        }
        var ids = [TransactionID]()
        ids.reserveCapacity(idBytes.count / 32)
        let bytes = Array(idBytes)
        for start in stride(from: 0, to: bytes.count, by: 32) {
            guard let id = try? TransactionID(bytes: Array(bytes[start..<start + 32])) else {
                throw StorageError(.corrupt, "the stored record of a Quant sealed here on \(parent.hex) does not decode")
            }
            ids.append(id)
        }
        return SealedQuant(header: header, transactions: ids)
    }

    public func replace(above ancestor: StoredHeader?, chain: ChainID, with branch: [QuantRecord], limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]
    {
        let chainData = Data(chain.bytes)
        let base = Int64(clamping: ancestor?.header.height ?? 0)
        let kept = Set(branch.flatMap { $0.quant.transactions.map(\.id) })
        return try await write { db in
            // Read once: the removed transactions go back to the mempool and are named by the events.
            let rows = try Row.fetchAll(
                db, sql: "SELECT height, body FROM tx WHERE chain = ? AND height > ? ORDER BY height, position", arguments: [chainData, base]
            ).map { row -> (height: Int64, tx: Transaction) in (row["height"], try Self.transaction(row["body"], limits: limits)) }
            let removed = rows.map(\.tx)
            let events = ChainEvent.replacing(
                try Self.removedQuants(chain: chainData, above: base, transactions: rows, in: db), with: branch.map(\.quant),
                after: try Self.lastEvent(chain: chainData, in: db))
            try Self.insert(events, chain: chain, in: db)
            try db.execute(sql: "DELETE FROM tx WHERE chain = ? AND height > ?", arguments: [chainData, base])
            try db.execute(sql: "DELETE FROM quant WHERE chain = ? AND height > ?", arguments: [chainData, base])
            try db.execute(sql: "DELETE FROM member_event WHERE chain = ? AND height > ?", arguments: [chainData, base])
            for record in branch { try Self.insert(record, in: db) }
            let orphaned = removed.filter { !kept.contains($0.id) }
            let repool = try db.cachedStatement(sql: "INSERT OR IGNORE INTO mempool (id, chain, body) VALUES (?, ?, ?)")
            for tx in orphaned { try repool.execute(arguments: [Data(tx.id.bytes), chainData, Data(tx.encoded)]) }
            return orphaned
        }
    }

    /// Inserts a Quant, its transactions and its membership changes, and removes the transactions
    /// from the stored mempool.
    private static func insert(_ record: QuantRecord, in db: Database) throws {
        let header = record.quant.header
        let chain = Data(header.chain.bytes)
        let height = Int64(clamping: header.height)
        try db.execute(
            sql: "INSERT INTO quant (chain, height, hash, header, cumulative_work, cumulative_tx, certificate) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [chain, height, Data(record.quant.hash.bytes), Data(header.encoded), record.stored.cumulativeWork,
                        record.stored.cumulativeTransactions, record.quant.certificate.map { Data($0.encoded) }])
        let insert = try db.cachedStatement(
            sql: "INSERT INTO tx (id, chain, height, position, sender, body) VALUES (?, ?, ?, ?, ?, ?)")
        let unpool = try db.cachedStatement(sql: "DELETE FROM mempool WHERE id = ?")
        for (position, tx) in record.quant.transactions.enumerated() {
            let id = Data(tx.id.bytes)
            try insert.execute(arguments: [id, chain, height, position, Data(tx.sender.bytes), Data(tx.encoded)])
            try unpool.execute(arguments: [id])
        }
        try Self.insert(record.events, chain: header.chain, height: header.height, in: db)
    }

    // MARK: Mempool

    public func addToMempool(_ transactions: [Transaction]) async throws(StorageError) -> Set<TransactionID> {
        guard !transactions.isEmpty else { return [] }
        return try await write { db in
            // In the same database transaction as the check, so no commit can come in between.
            let already = try Self.committed(transactions.map(\.id), in: db)
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO mempool (id, chain, body) VALUES (?, ?, ?)")
            for tx in transactions where !already.contains(tx.id) {
                try insert.execute(arguments: [Data(tx.id.bytes), Data(tx.chain.bytes), Data(tx.encoded)])
            }
            return already
        }
    }

    public func removeFromMempool(_ ids: [TransactionID]) async throws(StorageError) {
        guard !ids.isEmpty else { return }
        try await write { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM mempool WHERE id = ?")
            for id in ids { try delete.execute(arguments: [Data(id.bytes)]) }
        }
    }

    /// Transactions from rows of `body`, in order, stopping before `maxBytes` (always at least one).
    private static func transactions(from rows: RowCursor, maxBytes: Int, limits: TransactionLimits) throws -> [Transaction] {
        var out = [Transaction]()
        var bytes = 0
        while let row = try rows.next() {
            let body: Data = row["body"]
            if !out.isEmpty, bytes + body.count > maxBytes { break }
            bytes += body.count
            out.append(try transaction(body, limits: limits))
        }
        return out
    }

    public func mempool(chain: ChainID, limit: Int, maxBytes: Int, limits: TransactionLimits) async throws(StorageError) -> [Transaction] {
        try await read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT body FROM mempool WHERE chain = ? ORDER BY seq LIMIT ?", arguments: [Data(chain.bytes), limit])
            return try Self.transactions(from: rows, maxBytes: maxBytes, limits: limits)
        }
    }

    public func removeCommittedFromMempool() async throws(StorageError) -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM mempool WHERE id IN (SELECT id FROM tx)")
            return db.changesCount
        }
    }

    // MARK: Helpers

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        do { return blocking ? try readNow(body) : try await pool.read(body) } catch let error as StorageError { throw error } catch {
            throw StorageError(.io, "database read failed: \(error)")
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        do { return blocking ? try writeNow(body) : try await pool.write(body) } catch let error as StorageError { throw error } catch {
            throw StorageError(.io, "database write failed: \(error)")
        }
    }

    /// GRDB's blocking calls, on the caller's thread (the `blocking` mode).
    private func readNow<T>(_ body: (Database) throws -> T) throws -> T { try pool.read(body) }
    private func writeNow<T>(_ body: (Database) throws -> T) throws -> T { try pool.write(body) }

    static func storedHeader(_ row: Row) throws -> StoredHeader {
        let bytes: Data = row["header"]
        let hash: Data = row["hash"]
        let header: QuantHeader
        do { header = try QuantHeader(decoding: Array(bytes)) } catch {
            throw StorageError(.corrupt, "stored Quant header does not decode: \(error)")
        }
        guard header.hash.bytes == Array(hash) else {
            throw StorageError(.corrupt, "stored Quant at height \(header.height) does not match its hash")
        }
        var certificate: CommitCertificate?
        if let bytes: Data = row["certificate"] {
            do { certificate = try CommitCertificate(decoding: Array(bytes)) } catch {
                throw StorageError(.corrupt, "the stored certificate of the Quant at height \(header.height) does not decode: \(error)")
            }
        }
        return StoredHeader(header: header, hash: header.hash, cumulativeWork: row["cumulative_work"],
                            cumulativeTransactions: row["cumulative_tx"], certificate: certificate)
    }

    static func transaction(_ data: Data, limits: TransactionLimits) throws -> Transaction {
        // Stored transactions were checked on admission; the absolute ceiling still bounds the decoder.
        do { return try Transaction(decoding: Array(data), limits: limits.ceiling) } catch {
            throw StorageError(.corrupt, "stored transaction does not decode: \(error)")
        }
    }
}
