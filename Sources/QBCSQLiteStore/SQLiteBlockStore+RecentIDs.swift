import Foundation
import GRDB
import QBCCrypto
import QBCStorage

/// Moving held ids to `tx_id` (`RecentIDs`, decision D72).
extension SQLiteBlockStore {
    /// The ids of the bodies listed in `tx_unindexed`, recomputed from the bodies: an id is the
    /// BLAKE2b-256 of the body without its 64-byte signature. At most a flush's worth.
    static func unindexedIDs(_ db: Database) throws -> [(id: [UInt8], seq: Int64)] {
        let rows = try FastStatement(db, "SELECT u.seq, b.body FROM tx_unindexed u JOIN tx_body b ON b.seq = u.seq")
        defer { rows.reset() }
        var out = [(id: [UInt8], seq: Int64)]()
        while try rows.step() {
            let body = rows.bytes(1)
            guard body.count > 64 else { throw StorageError(.corrupt, "stored transaction \(rows.int64(0)) is too short to hold a signature") }
            out.append((Hash.blake2b(Array(body[..<(body.count - 64)])).bytes, rows.int64(0)))
        }
        return out
    }

    /// Writes every held id to `tx_id` in id order (each page of the index is then touched once)
    /// and empties `tx_unindexed`; takes effect in memory when the write commits.
    func flushRecentIDs(in db: Database) throws {
        let insert = try FastStatement(db, "INSERT INTO tx_id (id, seq) VALUES (?, ?)")
        for entry in recent.takeForFlush() {
            insert.bind(1, entry.key)
            insert.bind(2, entry.seq)
            try insert.run()
        }
        try db.execute(sql: "DELETE FROM tx_unindexed")
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

