import Foundation
import GRDB

extension SQLiteBlockStore {
    /// `v9-bodies-once`: moves committed transactions (`tx`) and waiting ones (`mempool`) into
    /// `tx_body`, `tx_id`, `tx_height`, `tx_waiting` and `quant_tx`, in chain and Quant order,
    /// then drops both tables. A
    /// waiting row for a transaction that is committed (versions before 0.2 could leave one) is
    /// dropped here.
    /// Waiting rows for committed transactions in a database `v9` has yet to migrate.
    static func staleRowsBeforeV9(_ db: Database) throws -> Int {
        guard try !migrator.appliedIdentifiers(db).contains("v9-bodies-once"), try db.tableExists("mempool") else { return 0 }
        return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mempool WHERE id IN (SELECT id FROM tx)") ?? 0
    }

    static func storeBodiesOnce(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE tx_body (seq INTEGER PRIMARY KEY, chain BLOB NOT NULL, body BLOB NOT NULL);
            CREATE TABLE tx_id (id BLOB PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE tx_waiting (seq INTEGER PRIMARY KEY);
            CREATE TABLE tx_height (seq INTEGER PRIMARY KEY, height INTEGER NOT NULL);
            CREATE TABLE quant_tx (chain BLOB NOT NULL, height INTEGER NOT NULL, seqs BLOB NOT NULL);
            CREATE UNIQUE INDEX quant_tx_by_height ON quant_tx(chain, height);
            """)
        let insertBody = try db.makeStatement(sql: "INSERT INTO tx_body (chain, body) VALUES (?, ?)")
        let insertID = try db.makeStatement(sql: "INSERT INTO tx_id (id, seq) VALUES (?, ?)")
        let insertHeight = try db.makeStatement(sql: "INSERT INTO tx_height (seq, height) VALUES (?, ?)")
        let insertWaiting = try db.makeStatement(sql: "INSERT INTO tx_waiting (seq) VALUES (?)")
        let insertList = try db.makeStatement(sql: "INSERT INTO quant_tx (chain, height, seqs) VALUES (?, ?, ?)")
        var current: (chain: Data, height: Int64)?
        var seqs = [UInt8]()
        func flush() throws {
            guard let (chain, height) = current else { return }
            try insertList.execute(arguments: [chain, height, Data(seqs)])
            seqs.removeAll(keepingCapacity: true)
        }
        let committed = try Row.fetchCursor(db, sql: "SELECT id, chain, height, body FROM tx ORDER BY chain, height, position")
        while let row = try committed.next() {
            let chain: Data = row["chain"]
            let height: Int64 = row["height"]
            if current.map({ $0.chain != chain || $0.height != height }) ?? true {
                try flush()
                current = (chain, height)
            }
            try insertBody.execute(arguments: [chain, row["body"] as Data])
            let seq = db.lastInsertedRowID
            try insertID.execute(arguments: [row["id"] as Data, seq])
            try insertHeight.execute(arguments: [seq, height])
            appendBigEndian(seq, to: &seqs)
        }
        try flush()
        let waiting = try Row.fetchCursor(
            db, sql: "SELECT id, chain, body FROM mempool WHERE id NOT IN (SELECT id FROM tx) ORDER BY seq")
        while let row = try waiting.next() {
            try insertBody.execute(arguments: [row["chain"] as Data, row["body"] as Data])
            let seq = db.lastInsertedRowID
            try insertID.execute(arguments: [row["id"] as Data, seq])
            try insertWaiting.execute(arguments: [seq])
        }
        try db.execute(sql: "DROP TABLE tx; DROP TABLE mempool")
    }
}
