import Foundation
import Synchronization
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
    let blocking: Bool
    /// Admission batches written together when they arrive during another's write.
    let groupedAdmissions = GroupedWrites()
    /// Waiting rows for committed transactions that migration `v9` dropped at this open, reported
    /// once by `removeCommittedFromMempool`.
    let staleRowsDropped: Mutex<Int>
    /// Ids not yet written to `tx_id`.
    let recent: RecentIDs
    /// How much of the database file each reader maps, at most (D83).
    static let readerMappedBytes = 256 << 20

    /// Opens (creating if needed) `directory/qbc.sqlite`, taking the folder's lock first.
    /// `recentIDs`: ids held in memory before they are written to the id index together (tests
    /// make it small).
    public init(directory: String, blocking: Bool = false, recentIDs: Int = 50_000) throws(StorageError) {
        lock = try DataDirectoryLock(directory: directory)
        self.blocking = blocking
        recent = RecentIDs(flushAt: recentIDs)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Readers map the database file instead of copying every page they read into a
            // cache of their own (D83). The writer keeps its page cache and reads as before.
            if db.configuration.readonly { try db.execute(sql: "PRAGMA mmap_size = \(Self.readerMappedBytes)") }
        }
        configuration.maximumReaderCount = 4
        let path = (directory as NSString).appendingPathComponent("qbc.sqlite")
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if try pool.read({ try Self.migrator.hasBeenSuperseded($0) }) {
                throw StorageError(.corrupt, "\(path) was written by a newer version of qbc (it has migrations this one does not know)")
            }
            staleRowsDropped = Mutex(try pool.read(Self.staleRowsBeforeV9))
            try Self.migrator.migrate(pool)
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -16384") }
            let (ids, largest) = try pool.read { db in
                let mark = try Self.indexMark(db)
                return (try Self.unindexedIDs(db, above: mark), max(mark, try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM tx_body") ?? 0))
            }
            recent.load(ids, largestNumber: largest)
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

    public func commit(_ record: QuantRecord) async throws(StorageError) {
        let height = Int64(clamping: record.quant.header.height)
        try await write { db in
            let tip = try Int64.fetchOne(
                db, sql: "SELECT MAX(height) FROM quant WHERE chain = ?", arguments: [Data(record.quant.header.chain.bytes)])
            guard (tip ?? 0) == height - 1 else {
                throw StorageError(.conflict, "cannot commit height \(height): the stored tip is \(tip ?? 0)")
            }
            try self.insert(record, in: db)
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

    // MARK: Helpers

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        do { return blocking ? try readNow(body) : try await pool.read(body) } catch let error as StorageError { throw error } catch {
            throw StorageError(.io, "database read failed: \(error)")
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        do {
            if blocking { return try writeNow(body) }
            return try await pool.writeWithoutTransaction { db in try self.transaction(db, body) }
        } catch let error as StorageError { throw error } catch {
            throw StorageError(.io, "database write failed: \(error)")
        }
    }

    /// One database transaction on the writer; the ids it stored or removed take effect in
    /// memory once it has committed, before the next write starts. When the held ids reach their
    /// limit, a write of their own moves them to `tx_id` after this one, which its caller does not
    /// wait for: a Quant's commit is not held up by index upkeep (the last Quant of a sync waited
    /// for it, with a core idle). In the same transaction instead in blocking mode (the simulator
    /// sees every step in order), or when twice the limit are held (those writes kept failing).
    private func transaction<T>(_ db: Database, flushing: Bool = false, _ body: (Database) throws -> T) throws -> T {
        var result: T?
        do {
            try db.inTransaction {
                result = try body(db)
                if recent.flushOverdue || (recent.flushDue && (flushing || blocking)) { try flushRecentIDs(in: db) }
                return .commit
            }
        } catch {
            recent.discardStaged()
            throw error
        }
        recent.commitStaged()
        if !blocking, !flushing, recent.flushDue { scheduleFlush() }
        guard let result else { throw StorageError(.io, "database write returned nothing") }
        return result
    }

    /// Moves the held ids to `tx_id` in a write after the ones queued now; the store (and its
    /// folder's lock) lasts until it is done. A failure leaves them held, to be tried again a
    /// quarter of a run later; at twice the limit a write flushes in its own transaction, and its
    /// caller gets the error.
    private func scheduleFlush() {
        pool.asyncWriteWithoutTransaction { db in
            guard self.recent.flushDue else { return }
            do { try self.transaction(db, flushing: true) { _ in () } } catch { self.recent.flushFailed() }
        }
    }

    /// GRDB's blocking calls, on the caller's thread (the `blocking` mode).
    private func readNow<T>(_ body: (Database) throws -> T) throws -> T { try pool.read(body) }
    private func writeNow<T>(_ body: (Database) throws -> T) throws -> T { try pool.writeWithoutTransaction { db in try transaction(db, body) } }

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
        var fields = Transaction.RecentFields.none
        return try transaction(Array(data), limits: limits, sharing: &fields)
    }

    static func transaction(_ bytes: [UInt8], limits: TransactionLimits) throws -> Transaction {
        var fields = Transaction.RecentFields.none
        return try transaction(bytes, limits: limits, sharing: &fields)
    }

    static func transaction(_ bytes: [UInt8], limits: TransactionLimits, sharing fields: inout Transaction.RecentFields) throws -> Transaction {
        // Stored transactions were checked on admission; the absolute ceiling still bounds the decoder.
        do { return try Transaction(decoding: bytes, limits: limits.ceiling, sharing: &fields) } catch {
            throw StorageError(.corrupt, "stored transaction does not decode: \(error)")
        }
    }
}
