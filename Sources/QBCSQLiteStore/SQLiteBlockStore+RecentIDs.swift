import Foundation
import GRDB
import QBCCrypto
import QBCStorage

/// Moving held ids to `tx_id` (`RecentIDs`, decision D72).
extension SQLiteBlockStore {
    /// Every body numbered at or below it has its id in `tx_id`; none above it has (D84).
    static func indexMark(_ db: Database) throws -> Int64 {
        guard let mark = try Int64.fetchOne(db, sql: "SELECT seq FROM tx_index_mark") else {
            throw StorageError(.corrupt, "the id index's mark (table tx_index_mark) is missing")
        }
        return mark
    }

    /// The ids of the bodies above the index mark, recomputed from the bodies: an id is the
    /// BLAKE2b-256 of the body without its 64-byte signature. At most a flush's worth.
    static func unindexedIDs(_ db: Database, above mark: Int64) throws -> [(id: [UInt8], seq: Int64)] {
        let rows = try FastStatement(db, "SELECT seq, body FROM tx_body WHERE seq > ?")
        defer { rows.reset() }
        rows.bind(1, mark)
        var out = [(id: [UInt8], seq: Int64)]()
        while try rows.step() {
            let body = rows.bytes(1)
            guard body.count > 64 else { throw StorageError(.corrupt, "stored transaction \(rows.int64(0)) is too short to hold a signature") }
            out.append((Hash.blake2b(Array(body[..<(body.count - 64)])).bytes, rows.int64(0)))
        }
        return out
    }

    /// Writes every held id to `tx_id` in id order (each page of the index is then touched once)
    /// and moves the index mark past every body numbered so far; takes effect in memory when the
    /// write commits.
    func flushRecentIDs(in db: Database) throws {
        let insert = try FastStatement(db, "INSERT INTO tx_id (id, seq) VALUES (?, ?)")
        for entry in recent.takeForFlush() {
            insert.bind(1, entry.key)
            insert.bind(2, entry.seq)
            try insert.run()
        }
        try db.execute(sql: "UPDATE tx_index_mark SET seq = ?", arguments: [recent.largestNumber])
    }

    /// A read that looks ids up in memory before `tx_id`. Its snapshot begins after the flushes
    /// counted before it, so it holds what they wrote; what the next one moves stays in memory
    /// until the one after takes effect. If that happens during the read, it is made again.
    func readByID<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        for _ in 0..<3 {
            let before = recent.flushes
            let result = try await read(body)
            if recent.flushes - before < 2 { return result }
        }
        // Runs every few milliseconds for three reads in a row: the last answer may miss a
        // transaction (never name a wrong one), and the writer's own checks decide what is stored.
        return try await read(body)
    }
}

