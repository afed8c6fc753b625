import Foundation
import GRDB
public import QBCCore
public import QBCCrypto

/// The embedded default store: SQLite through GRDB, in WAL mode with `synchronous = FULL`,
/// one database transaction per committed Quant. Schema: documentation/storage.md.
public final class SQLiteBlockStore: BlockStore {
    private let pool: DatabasePool
    /// Kept for the store's lifetime so no other node opens the same folder.
    private let lock: DataDirectoryLock

    /// Opens (creating if needed) `directory/qbc.sqlite`, taking the folder's lock first.
    public init(directory: String) throws(StorageError) {
        lock = try DataDirectoryLock(directory: directory)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.maximumReaderCount = 4
        let path = (directory as NSString).appendingPathComponent("qbc.sqlite")
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw StorageError(.io, "cannot open \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE chain (id BLOB PRIMARY KEY, name TEXT NOT NULL, bang BLOB NOT NULL);
                CREATE TABLE quant (
                    chain BLOB NOT NULL, height INTEGER NOT NULL, hash BLOB NOT NULL, header BLOB NOT NULL,
                    cumulative_work INTEGER NOT NULL, cumulative_tx INTEGER NOT NULL,
                    PRIMARY KEY (chain, height)) WITHOUT ROWID;
                CREATE UNIQUE INDEX quant_by_hash ON quant(hash);
                CREATE TABLE tx (
                    id BLOB NOT NULL UNIQUE, chain BLOB NOT NULL, height INTEGER NOT NULL,
                    position INTEGER NOT NULL, sender BLOB NOT NULL, body BLOB NOT NULL);
                CREATE INDEX tx_by_quant ON tx(chain, height, position);
                CREATE INDEX tx_by_sender ON tx(sender);
                CREATE TABLE mempool (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, id BLOB NOT NULL UNIQUE, chain BLOB NOT NULL,
                    body BLOB NOT NULL);
                """)
        }
        migrator.registerMigration("v2-equivocation") { db in
            try db.execute(sql: """
                CREATE TABLE equivocation (
                    chain BLOB NOT NULL, proposer BLOB NOT NULL, height INTEGER NOT NULL,
                    first BLOB NOT NULL, second BLOB NOT NULL, PRIMARY KEY (chain, proposer, height));
                """)
        }
        migrator.registerMigration("v3-membership") { db in
            try db.execute(sql: """
                CREATE TABLE member_event (
                    chain BLOB NOT NULL, height INTEGER NOT NULL, position INTEGER NOT NULL, change BLOB NOT NULL,
                    member BLOB NOT NULL, roles INTEGER NOT NULL, PRIMARY KEY (chain, height, position)) WITHOUT ROWID;
                CREATE UNIQUE INDEX member_event_by_change ON member_event(chain, change);
                """)
        }
        return migrator
    }

    // MARK: Chains

    public func bangs() throws(StorageError) -> [Bang] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT bang FROM chain ORDER BY rowid").map { row in
                let bytes: Data = row["bang"]
                do { return try Bang(decoding: Array(bytes)) } catch {
                    throw StorageError(.corrupt, "stored Bang does not decode: \(error)")
                }
            }
        }
    }

    public func create(_ bang: Bang) throws(StorageError) {
        try write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO chain (id, name, bang) VALUES (?, ?, ?)",
                arguments: [Data(bang.id.bytes), bang.rules.name, Data(bang.encoded)])
        }
    }

    // MARK: Quants

    static let headerColumns = "header, hash, cumulative_work, cumulative_tx"

    public func tip(chain: ChainID) throws(StorageError) -> StoredHeader? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.headerColumns) FROM quant WHERE chain = ? ORDER BY height DESC LIMIT 1",
                arguments: [Data(chain.bytes)]
            ).map(Self.storedHeader)
        }
    }

    public func header(chain: ChainID, height: UInt64) throws(StorageError) -> StoredHeader? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.headerColumns) FROM quant WHERE chain = ? AND height = ?",
                arguments: [Data(chain.bytes), Int64(clamping: height)]
            ).map(Self.storedHeader)
        }
    }

    public func height(ofQuant hash: Hash) throws(StorageError) -> (chain: ChainID, height: UInt64)? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT chain, height FROM quant WHERE hash = ?", arguments: [Data(hash.bytes)])
            else { return nil }
            let chain: Data = row["chain"]
            let height: Int64 = row["height"]
            return (Hash(unchecked: Array(chain)), UInt64(height))
        }
    }

    public func headers(chain: ChainID, from height: UInt64, limit: Int) throws(StorageError) -> [StoredHeader] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.headerColumns) FROM quant WHERE chain = ? AND height >= ? ORDER BY height LIMIT ?",
                arguments: [Data(chain.bytes), Int64(clamping: height), limit]
            ).map(Self.storedHeader)
        }
    }

    public func transactions(chain: ChainID, height: UInt64, limits: TransactionLimits) throws(StorageError) -> [Transaction] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT body FROM tx WHERE chain = ? AND height = ? ORDER BY position",
                arguments: [Data(chain.bytes), Int64(clamping: height)]
            ).map { try Self.transaction($0["body"], limits: limits) }
        }
    }

    public func transaction(id: TransactionID, limits: TransactionLimits) throws(StorageError) -> StoredTransaction? {
        try read { db in
            guard let row = try Row.fetchOne(
                db, sql: """
                    SELECT tx.body, tx.height, tx.position, quant.hash FROM tx
                    JOIN quant ON quant.chain = tx.chain AND quant.height = tx.height WHERE tx.id = ?
                    """, arguments: [Data(id.bytes)])
            else { return nil }
            let height: Int64 = row["height"]
            let hash: Data = row["hash"]
            return StoredTransaction(
                transaction: try Self.transaction(row["body"], limits: limits), height: UInt64(height),
                position: row["position"], quantHash: Hash(unchecked: Array(hash)))
        }
    }

    public func committed(_ ids: [TransactionID]) throws(StorageError) -> Set<TransactionID> {
        guard !ids.isEmpty else { return [] }
        return try read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM tx WHERE id = ?")
            var found = Set<TransactionID>()
            for id in ids where try Bool.fetchOne(statement, arguments: [Data(id.bytes)]) != nil {
                found.insert(id)
            }
            return found
        }
    }

    public func committed(_ ids: [TransactionID], chain: ChainID, atOrBelow height: UInt64) throws(StorageError)
        -> Set<TransactionID>
    {
        guard !ids.isEmpty else { return [] }
        return try read { db in
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

    public func replace(
        above ancestor: StoredHeader?, chain: ChainID, with branch: [Quant], events: [[MemberEvent]], limits: TransactionLimits
    )
        throws(StorageError) -> (tip: StoredHeader, orphaned: [Transaction])
    {
        let chainData = Data(chain.bytes)
        let base = Int64(clamping: ancestor?.header.height ?? 0)
        let kept = Set(branch.flatMap { $0.transactions.map(\.id) })
        return try write { db in
            let removed = try Row.fetchAll(
                db, sql: "SELECT body FROM tx WHERE chain = ? AND height > ? ORDER BY height, position", arguments: [chainData, base]
            ).map { try Self.transaction($0["body"], limits: limits) }
            try db.execute(sql: "DELETE FROM tx WHERE chain = ? AND height > ?", arguments: [chainData, base])
            try db.execute(sql: "DELETE FROM quant WHERE chain = ? AND height > ?", arguments: [chainData, base])
            try db.execute(sql: "DELETE FROM member_event WHERE chain = ? AND height > ?", arguments: [chainData, base])
            var parent = ancestor
            for (index, quant) in branch.enumerated() {
                parent = try Self.insert(quant, parent: parent, in: db)
                if index < events.count { try Self.insert(events[index], chain: chain, height: quant.header.height, in: db) }
            }
            let orphaned = removed.filter { !kept.contains($0.id) }
            let repool = try db.cachedStatement(sql: "INSERT OR IGNORE INTO mempool (id, chain, body) VALUES (?, ?, ?)")
            for tx in orphaned { try repool.execute(arguments: [Data(tx.id.bytes), chainData, Data(tx.encoded)]) }
            guard let tip = parent else { throw StorageError(.conflict, "a fork switch needs at least one Quant") }
            return (tip, orphaned)
        }
    }

    public func commit(_ quant: Quant, parent: StoredHeader?, events: [MemberEvent]) throws(StorageError) -> StoredHeader {
        let height = Int64(clamping: quant.header.height)
        return try write { db in
            let tip = try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM quant WHERE chain = ?", arguments: [Data(quant.header.chain.bytes)])
            guard (tip ?? 0) == height - 1 else {
                throw StorageError(.conflict, "cannot commit height \(height): the stored tip is \(tip ?? 0)")
            }
            let stored = try Self.insert(quant, parent: parent, in: db)
            try Self.insert(events, chain: quant.header.chain, height: quant.header.height, in: db)
            return stored
        }
    }

    /// Inserts a Quant and its transactions and removes them from the stored mempool.
    private static func insert(_ quant: Quant, parent: StoredHeader?, in db: Database) throws -> StoredHeader {
        let header = quant.header
        let stored = StoredHeader(
            header: header, hash: quant.hash,
            cumulativeWork: (parent?.cumulativeWork ?? 0) + header.work,
            cumulativeTransactions: (parent?.cumulativeTransactions ?? 0) + Int64(quant.transactions.count))
        let chain = Data(header.chain.bytes)
        let height = Int64(clamping: header.height)
        try db.execute(
            sql: "INSERT INTO quant (chain, height, hash, header, cumulative_work, cumulative_tx) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [chain, height, Data(quant.hash.bytes), Data(header.encoded), stored.cumulativeWork,
                        stored.cumulativeTransactions])
        let insert = try db.cachedStatement(
            sql: "INSERT INTO tx (id, chain, height, position, sender, body) VALUES (?, ?, ?, ?, ?, ?)")
        let unpool = try db.cachedStatement(sql: "DELETE FROM mempool WHERE id = ?")
        for (position, tx) in quant.transactions.enumerated() {
            let id = Data(tx.id.bytes)
            try insert.execute(arguments: [id, chain, height, position, Data(tx.sender.bytes), Data(tx.encoded)])
            try unpool.execute(arguments: [id])
        }
        return stored
    }

    public func recordEquivocation(chain: ChainID, proposer: PublicKey, height: UInt64, hashes: (Hash, Hash))
        throws(StorageError)
    {
        try write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO equivocation (chain, proposer, height, first, second) VALUES (?, ?, ?, ?, ?)",
                arguments: [Data(chain.bytes), Data(proposer.bytes), Int64(clamping: height), Data(hashes.0.bytes), Data(hashes.1.bytes)])
        }
    }

    public func equivocators(chain: ChainID) throws(StorageError) -> Set<PublicKey> {
        try read { db in
            Set(try Data.fetchAll(db, sql: "SELECT DISTINCT proposer FROM equivocation WHERE chain = ?", arguments: [Data(chain.bytes)])
                .map { PublicKey(unchecked: Array($0)) })
        }
    }

    // MARK: Mempool

    public func addToMempool(_ transactions: [Transaction]) throws(StorageError) {
        guard !transactions.isEmpty else { return }
        try write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO mempool (id, chain, body) VALUES (?, ?, ?)")
            for tx in transactions {
                try insert.execute(arguments: [Data(tx.id.bytes), Data(tx.chain.bytes), Data(tx.encoded)])
            }
        }
    }

    public func removeFromMempool(_ ids: [TransactionID]) throws(StorageError) {
        guard !ids.isEmpty else { return }
        try write { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM mempool WHERE id = ?")
            for id in ids { try delete.execute(arguments: [Data(id.bytes)]) }
        }
    }

    public func mempool(chain: ChainID, limit: Int, limits: TransactionLimits) throws(StorageError) -> [Transaction] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT body FROM mempool WHERE chain = ? ORDER BY seq LIMIT ?", arguments: [Data(chain.bytes), limit]
            ).map { try Self.transaction($0["body"], limits: limits) }
        }
    }

    // MARK: Helpers

    func read<T>(_ body: (Database) throws -> T) throws(StorageError) -> T {
        do { return try pool.read(body) } catch let error as StorageError { throw error } catch {
            throw StorageError(.io, "database read failed: \(error)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(StorageError) -> T {
        do { return try pool.write(body) } catch let error as StorageError { throw error } catch {
            throw StorageError(.io, "database write failed: \(error)")
        }
    }

    private static func storedHeader(_ row: Row) throws -> StoredHeader {
        let bytes: Data = row["header"]
        let hash: Data = row["hash"]
        let header: QuantHeader
        do { header = try QuantHeader(decoding: Array(bytes)) } catch {
            throw StorageError(.corrupt, "stored Quant header does not decode: \(error)")
        }
        guard header.hash.bytes == Array(hash) else {
            throw StorageError(.corrupt, "stored Quant at height \(header.height) does not match its hash")
        }
        return StoredHeader(header: header, hash: header.hash, cumulativeWork: row["cumulative_work"],
                            cumulativeTransactions: row["cumulative_tx"])
    }

    private static func transaction(_ data: Data, limits: TransactionLimits) throws -> Transaction {
        // Stored transactions were checked on admission; the absolute ceiling still bounds the decoder.
        var ceiling = limits
        ceiling.maxPayloadBytes = TransactionLimits.absoluteMaxPayloadBytes
        do { return try Transaction(decoding: Array(data), limits: ceiling) } catch {
            throw StorageError(.corrupt, "stored transaction does not decode: \(error)")
        }
    }
}
