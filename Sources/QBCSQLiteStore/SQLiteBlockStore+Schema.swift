import GRDB

/// The schema, as GRDB migrations applied in order at open (documentation/storage.md).
extension SQLiteBlockStore {
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
        // Evidence keeps both headers so it can be passed on; bans survive restarts.
        migrator.registerMigration("v4-evidence-bans") { db in
            try db.execute(sql: """
                ALTER TABLE equivocation ADD COLUMN first_header BLOB;
                ALTER TABLE equivocation ADD COLUMN second_header BLOB;
                CREATE TABLE peer_ban (node BLOB PRIMARY KEY, until INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE sealed_on (
                    chain BLOB NOT NULL, parent BLOB NOT NULL, header BLOB NOT NULL, tx_ids BLOB NOT NULL,
                    PRIMARY KEY (chain, parent)) WITHOUT ROWID;
                """)
        }
        // BFT: a Quant's commit certificate, and each chain's signer state.
        migrator.registerMigration("v5-bft") { db in
            try db.execute(sql: """
                ALTER TABLE quant ADD COLUMN certificate BLOB;
                CREATE TABLE bft_signer (chain BLOB PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID;
                CREATE TABLE bft_valid (chain BLOB PRIMARY KEY, proof BLOB NOT NULL);
                CREATE TABLE bft_conflict (
                    chain BLOB NOT NULL, height INTEGER NOT NULL, first BLOB NOT NULL, second BLOB NOT NULL, evidence BLOB NOT NULL,
                    PRIMARY KEY (chain, height, first, second)) WITHOUT ROWID;
                """)
        }
        // The event stream's log, filled in for every Quant stored before it (events.md).
        migrator.registerMigration("v6-events") { db in try backfillEvents(db) }
        // Read keys (anonymous reads): a registration is a member event that sets one.
        migrator.registerMigration("v7-read-keys") { db in try db.execute(sql: "ALTER TABLE member_event ADD COLUMN read_key BLOB") }
        // No query ever read transactions by sender; the index cost a random-key B-tree insert per
        // committed transaction (issue 18).
        migrator.registerMigration("v8-no-sender-index") { db in try db.execute(sql: "DROP INDEX IF EXISTS tx_by_sender") }
        // Each transaction's body is written once, when it is first stored; a commit only marks it
        // (issue 18: commits copied every body from the mempool table and deleted it there).
        migrator.registerMigration("v9-bodies-once") { db in try storeBodiesOnce(db) }
        // Ids of new bodies are held in memory and written to `tx_id` in sorted runs; this listed
        // the bodies whose ids were not there yet (issue 18, decision D72; `v11` replaces it).
        // Everything stored before it is indexed.
        migrator.registerMigration("v10-recent-ids") { db in try db.execute(sql: "CREATE TABLE tx_unindexed (seq INTEGER PRIMARY KEY)") }
        // Bodies whose ids are held are the ones numbered above one mark (body numbers only grow),
        // not a list with a row per body (issue 18, D84). Under v10 every listed body is numbered
        // above every indexed one, so the mark sits just below the first listed.
        migrator.registerMigration("v11-index-mark") { db in
            try db.execute(sql: """
                CREATE TABLE tx_index_mark (seq INTEGER NOT NULL);
                INSERT INTO tx_index_mark (seq)
                    SELECT COALESCE((SELECT MIN(seq) - 1 FROM tx_unindexed), (SELECT MAX(seq) FROM tx_body), 0);
                DROP TABLE tx_unindexed;
                """)
        }
        return migrator
    }
}
