import Foundation
import GRDB
public import QBCCore
import QBCCrypto

/// Rewrites a node database into the layout of versions before migration `v9-bodies-once`
/// (tables `tx` and `mempool`), so tests can open data an earlier version left and check what
/// the migration makes of it. Written with SQL of its own, not the store's code.
public enum EarlierLayout {
    /// Moves committed and waiting transactions back into `tx` and `mempool`, forgets `v9`, `v10`
    /// and `v11` (whose table goes too), and
    /// adds `stale` to `mempool` as a waiting row (what versions before 0.2 could leave behind
    /// for a committed transaction).
    public static func rewind(directory: String, addingWaiting stale: [Transaction] = []) throws {
        let queue = try DatabaseQueue(path: (directory as NSString).appendingPathComponent("qbc.sqlite"))
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE tx (
                    id BLOB NOT NULL UNIQUE, chain BLOB NOT NULL, height INTEGER NOT NULL,
                    position INTEGER NOT NULL, sender BLOB NOT NULL, body BLOB NOT NULL);
                CREATE INDEX tx_by_quant ON tx(chain, height, position);
                CREATE TABLE mempool (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, id BLOB NOT NULL UNIQUE, chain BLOB NOT NULL, body BLOB NOT NULL);
                """)
            for row in try Row.fetchAll(db, sql: "SELECT chain, height, seqs FROM quant_tx") {
                let seqs: Data = row["seqs"]
                for position in 0..<seqs.count / 8 {
                    let seq = seqs[seqs.startIndex + position * 8..<seqs.startIndex + position * 8 + 8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
                    let tx = try transaction(seq, in: db)
                    try db.execute(
                        sql: "INSERT INTO tx (id, chain, height, position, sender, body) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [Data(tx.id.bytes), row["chain"] as Data, row["height"] as Int64, position, Data(tx.sender.bytes),
                                    Data(tx.encoded)])
                }
            }
            let waiting = try Int64.fetchAll(db, sql: "SELECT seq FROM tx_waiting ORDER BY seq").map { try transaction($0, in: db) }
            for tx in waiting + stale {
                try db.execute(
                    sql: "INSERT INTO mempool (id, chain, body) VALUES (?, ?, ?)",
                    arguments: [Data(tx.id.bytes), Data(tx.chain.bytes), Data(tx.encoded)])
            }
            try db.execute(sql: """
                DROP TABLE tx_body; DROP TABLE tx_id; DROP TABLE tx_waiting; DROP TABLE tx_height; DROP TABLE quant_tx;
                DROP TABLE tx_index_mark;
                DELETE FROM grdb_migrations WHERE identifier IN ('v9-bodies-once', 'v10-recent-ids', 'v11-index-mark');
                """)
        }
        try queue.close()
    }

    /// Rewrites the index mark of migration `v11` as the list of `v10`: a `tx_unindexed` row for
    /// every body above the mark, and `v11` forgotten.
    public static func rewindToUnindexedList(directory: String) throws {
        let queue = try DatabaseQueue(path: (directory as NSString).appendingPathComponent("qbc.sqlite"))
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE tx_unindexed (seq INTEGER PRIMARY KEY);
                INSERT INTO tx_unindexed (seq) SELECT seq FROM tx_body WHERE seq > (SELECT seq FROM tx_index_mark);
                DROP TABLE tx_index_mark;
                DELETE FROM grdb_migrations WHERE identifier = 'v11-index-mark';
                """)
        }
        try queue.close()
    }

    private static func transaction(_ seq: Int64, in db: Database) throws -> Transaction {
        guard let body = try Data.fetchOne(db, sql: "SELECT body FROM tx_body WHERE seq = ?", arguments: [seq]) else {
            throw DatabaseError(message: "no body numbered \(seq)")
        }
        return try Transaction(decoding: Array(body), limits: TransactionLimits.standard.ceiling)
    }
}
