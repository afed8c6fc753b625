import Foundation
import GRDB
import QBCCore
public import QBCStorage

/// Online backups of a node's database (SQLite's backup API) and their restoration.
public enum SQLiteBackup {
    /// Copies `directory/qbc.sqlite` to a new file `out`, consistent as of one moment, while the
    /// node that owns the folder keeps running: the copy is read in one step inside one read
    /// transaction, which in WAL mode never blocks the node's writes. Returns the bytes written.
    @discardableResult
    public static func copy(directory: String, to out: String) throws(StorageError) -> Int64 {
        let source = (directory as NSString).appendingPathComponent("qbc.sqlite")
        guard FileManager.default.fileExists(atPath: source) else {
            throw StorageError(.io, "\(directory) holds no node database (qbc.sqlite)")
        }
        guard !FileManager.default.fileExists(atPath: out) else { throw StorageError(.io, "\(out) already exists") }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            // The node holds the folder's lock; a reader needs none, and waits out a checkpoint.
            configuration.busyMode = .timeout(10)
            let reader = try DatabasePool(path: source, configuration: configuration)
            let copy = try DatabaseQueue(path: out)
            try reader.backup(to: copy)
            // One self-contained file: no -wal or -shm beside it to copy or lose.
            try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try copy.close()
            try reader.close()
        } catch {
            try? FileManager.default.removeItem(atPath: out)
            throw StorageError(.io, "backup of \(source) failed: \(error)")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: out)
        return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// Places the backup `file` as the database of the empty data folder `directory`, after
    /// checking that SQLite finds it whole and that it opens as a node store (migrating it if it
    /// comes from an older version).
    /// Returns the number of chains it holds.
    @discardableResult
    public static func restore(from file: String, into directory: String) async throws(StorageError) -> Int {
        let target = (directory as NSString).appendingPathComponent("qbc.sqlite")
        guard !FileManager.default.fileExists(atPath: target) else {
            throw StorageError(.io, "\(directory) holds a node database already; restore into an empty folder")
        }
        try checkIntegrity(file)
        let createdFolder = !FileManager.default.fileExists(atPath: directory)
        do {
            let lock = try DataDirectoryLock(directory: directory)
            defer { withExtendedLifetime(lock) {} }
            do { try FileManager.default.copyItem(atPath: file, toPath: target) } catch {
                throw StorageError(.io, "cannot copy \(file) to \(target): \(error.localizedDescription)")
            }
        }
        do throws(StorageError) {
            let store = try SQLiteBlockStore(directory: directory)
            let bangs = try await store.bangs()
            guard !bangs.isEmpty else { throw StorageError(.corrupt, "\(file) holds no chain") }
            // Every table a node reads at start, read once: a damaged copy fails here, not later.
            for bang in bangs {
                _ = try await store.tip(chain: bang.id)
                _ = try await store.headers(chain: bang.id, from: 1, limit: 1)
                _ = try await store.transactions(chain: bang.id, height: 1, from: 0, limit: 1, maxBytes: 1, limits: bang.rules.transactionLimits)
                _ = try await store.memberEvents(chain: bang.id, atOrBelow: 0)
                _ = try await store.lastEvent(chain: bang.id)
                _ = try await store.equivocators(chain: bang.id)
                _ = try await store.mempool(chain: bang.id, limit: 1, limits: bang.rules.transactionLimits)
                _ = try await store.signerState(chain: bang.id)
            }
            _ = try await store.bans(after: Timestamp(milliseconds: 0))
            return bangs.count
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            if createdFolder { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
    }

    /// SQLite's own check of every page and index of `file`.
    private static func checkIntegrity(_ file: String) throws(StorageError) {
        let verdict: String?
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let check = try DatabaseQueue(path: file, configuration: configuration)
            verdict = try check.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            try check.close()
        } catch {
            throw StorageError(.corrupt, "\(file) is not a readable SQLite database: \(error)")
        }
        guard verdict == "ok" else { throw StorageError(.corrupt, "\(file) fails SQLite's integrity check: \(verdict ?? "no answer")") }
    }
}
