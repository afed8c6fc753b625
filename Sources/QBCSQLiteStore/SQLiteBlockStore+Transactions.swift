import Foundation
import GRDB
import Synchronization
public import QBCCore
public import QBCCrypto
public import QBCStorage

/// Transactions are written once (migration `v9`, documentation/storage.md): a body row in
/// `tx_body` when a transaction is first stored, waiting or in a Quant; its id goes to `tx_id`
/// with many others in one sorted run, and is held in memory until then (`RecentIDs`, D72).
/// Whether it waits (`tx_waiting`) or is committed at a height (`tx_height`) are small rows keyed
/// by the body's number, so a commit writes no random-keyed row: it finds each body by id, moves
/// its number from waiting to committed and writes the Quant's list of numbers (`quant_tx`). A
/// fork switch moves the numbers back, so what it removes waits without being copied.
extension SQLiteBlockStore {
    // MARK: Reads

    public func transactions(
        chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int, limits: TransactionLimits
    ) async throws(StorageError) -> [Transaction] {
        try await read { db in
            var fields = Transaction.RecentFields()
            return try Self.bodies(chain: chain, height: height, from: position, limit: limit, maxBytes: maxBytes, in: db).map { body throws in
                try Self.transaction(body, limits: limits, sharing: &fields)
            }
        }
    }

    public func encodedTransactions(chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int)
        async throws(StorageError) -> [[UInt8]]
    {
        try await read { db in try Self.bodies(chain: chain, height: height, from: position, limit: limit, maxBytes: maxBytes, in: db) }
    }

    /// The stored bodies of a Quant's transactions from `position`: at most `limit` and, past the
    /// first, at most `maxBytes`; bodies past the bound are never loaded. Read through SQLite's
    /// C interface: a syncing peer's pages are served from here. A Quant's bodies are mostly
    /// numbered in runs (a synced Quant's all in one), and a run is read by one range scan, leaf
    /// after leaf, instead of a search from the table's root per body.
    private static func bodies(chain: ChainID, height: UInt64, from position: Int, limit: Int, maxBytes: Int, in db: Database) throws
        -> [[UInt8]]
    {
        let seqs = try bodyNumbers(chain: Data(chain.bytes), height: Int64(clamping: height), in: db)
        guard position >= 0, position < seqs.count, limit > 0 else { return [] }
        let run = try FastStatement(db, "SELECT seq, body FROM tx_body WHERE seq >= ? AND seq <= ?")
        defer { run.reset() }
        // `limit` may be Int.max: no sum with it.
        let end = position + min(limit, seqs.count - position)
        var out = [[UInt8]]()
        var bytes = 0
        var first = position
        while first < end {
            var last = first
            while last + 1 < end, seqs[last + 1] == seqs[last] &+ 1 { last += 1 }
            run.reset()
            run.bind(1, seqs[first])
            run.bind(2, seqs[last])
            for seq in seqs[first...last] {
                guard try run.step(), run.int64(0) == seq else { throw StorageError(.corrupt, "the body of stored transaction \(seq) is missing") }
                let data = run.bytes(1)
                if !out.isEmpty, bytes + data.count > maxBytes { return out }
                bytes += data.count
                out.append(data)
            }
            first = last + 1
        }
        return out
    }

    public func transaction(id: TransactionID, limits: TransactionLimits) async throws(StorageError) -> StoredTransaction? {
        try await readByID { db in
            guard let seq = try self.recent.number(of: id.bytes) ?? Int64.fetchOne(db, sql: "SELECT seq FROM tx_id WHERE id = ?", arguments: [Data(id.bytes)]),
                let row = try Row.fetchOne(
                    db, sql: "SELECT h.height, b.chain, b.body FROM tx_body b JOIN tx_height h ON h.seq = b.seq WHERE b.seq = ?",
                    arguments: [seq])
            else { return nil }
            let height: Int64 = row["height"]
            let chain: Data = row["chain"]
            guard let hash = try Data.fetchOne(db, sql: "SELECT hash FROM quant WHERE chain = ? AND height = ?", arguments: [chain, height]),
                let position = try Self.bodyNumbers(chain: chain, height: height, in: db).firstIndex(of: seq)
            else { throw StorageError(.corrupt, "committed transaction \(id.hex) is not in the Quant at height \(height)") }
            return StoredTransaction(
                transaction: try Self.transaction(row["body"], limits: limits), height: UInt64(clamping: height),
                position: position, quantHash: Hash(unchecked: Array(hash)))
        }
    }

    public func committed(_ ids: [TransactionID]) async throws(StorageError) -> Set<TransactionID> {
        guard !ids.isEmpty else { return [] }
        return try await readByID { db in
            let byID = try FastStatement(db, "SELECT 1 FROM tx_id i JOIN tx_height h ON h.seq = i.seq WHERE i.id = ?")
            let byNumber = try FastStatement(db, "SELECT 1 FROM tx_height WHERE seq = ?")
            return try self.found(ids, byID: byID, byNumber: byNumber) { _ in }
        }
    }

    public func committed(_ ids: [TransactionID], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError)
        -> Set<TransactionID>
    {
        guard !ids.isEmpty else { return [] }
        return try await readByID { db in
            let byID = try FastStatement(db, """
                SELECT 1 FROM tx_id i JOIN tx_height h ON h.seq = i.seq JOIN tx_body b ON b.seq = i.seq
                WHERE i.id = ? AND h.height <= ? AND b.chain = ?
                """)
            let byNumber = try FastStatement(db, """
                SELECT 1 FROM tx_height h JOIN tx_body b ON b.seq = h.seq WHERE h.seq = ? AND h.height <= ? AND b.chain = ?
                """)
            return try self.found(ids, byID: byID, byNumber: byNumber) { lookUp in
                lookUp.bind(2, Int64(clamping: height))
                lookUp.bind(3, chain.bytes)
            }
        }
    }

    /// The ids for which a lookup finds a row: `byNumber` for an id held in memory (bound to its
    /// body's number), else `byID` (bound to the id); `bind` binds the rest. One step each,
    /// through SQLite's C interface: admission, sync and every received Quant ask this of every
    /// transaction.
    private func found(_ ids: [TransactionID], byID: FastStatement, byNumber: FastStatement, bind: (FastStatement) -> Void)
        throws -> Set<TransactionID>
    {
        var found = Set<TransactionID>()
        for id in ids {
            let lookUp: FastStatement
            if let seq = recent.number(of: id.bytes) {
                lookUp = byNumber
                lookUp.bind(1, seq)
            } else {
                lookUp = byID
                lookUp.bind(1, id.bytes)
            }
            defer { lookUp.reset() }
            bind(lookUp)
            if try lookUp.step() { found.insert(id) }
        }
        return found
    }

    // MARK: Commits

    /// Inserts a Quant, marks its transactions committed at its height (storing the bodies of
    /// those that were not waiting here) and its membership changes.
    func insert(_ record: QuantRecord, in db: Database) throws {
        let header = record.quant.header
        let chain = Data(header.chain.bytes)
        let height = Int64(clamping: header.height)
        try db.execute(
            sql: "INSERT INTO quant (chain, height, hash, header, cumulative_work, cumulative_tx, certificate) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [chain, height, Data(record.quant.hash.bytes), Data(header.encoded), record.stored.cumulativeWork,
                        record.stored.cumulativeTransactions, record.quant.certificate.map { Data($0.encoded) }])
        let rows = try TransactionRows(db, recent: recent)
        var seqs = [UInt8]()
        seqs.reserveCapacity(record.quant.transactions.count * 8)
        var waiting = [(seq: Int64, index: Int)]()
        waiting.reserveCapacity(record.quant.transactions.count)
        for (index, tx) in record.quant.transactions.enumerated() {
            let seq: Int64
            if let known = try rows.number(of: tx.id.bytes) {
                // An id covers the signed fields, not the signature: a sender can sign one body
                // twice. A Quant sealed here holds the very copies that wait here; another's may
                // not, and what is committed is the Quant's copy.
                if !record.sealedHere { try rows.keepSignature(of: tx, in: known) }
                waiting.append((known, index))
                seq = known
            } else {
                seq = try rows.store(tx, chain: header.chain.bytes, height: height)
            }
            Self.appendBigEndian(seq, to: &seqs)
        }
        // Moved in body-number order, not the Quant's (timestamp, id) order: consecutive moves
        // then touch neighbouring rows of `tx_waiting` and `tx_height`.
        waiting.sort { $0.seq < $1.seq }
        for (seq, index) in waiting {
            guard try rows.commitIfWaiting(seq, height: height) else {
                throw StorageError(.replayed, "transaction \(record.quant.transactions[index].id.hex) is already committed on this chain")
            }
        }
        try db.execute(sql: "INSERT INTO quant_tx (chain, height, seqs) VALUES (?, ?, ?)", arguments: [chain, height, Data(seqs)])
        try Self.insert(record.events, chain: header.chain, height: header.height, in: db)
    }

    public func replace(above ancestor: StoredHeader?, chain: ChainID, with branch: [QuantRecord], limits: TransactionLimits)
        async throws(StorageError) -> [Transaction]
    {
        let chainData = Data(chain.bytes)
        let base = Int64(clamping: ancestor?.header.height ?? 0)
        let kept = Set(branch.flatMap { $0.quant.transactions.map(\.id) })
        return try await write { db in
            // Read once: the removed transactions wait again and are named by the events.
            let body = try FastStatement(db, "SELECT body FROM tx_body WHERE seq = ?")
            var rows = [(height: Int64, tx: Transaction)]()
            var seqs = [Int64]()
            var fields = Transaction.RecentFields()
            for row in try Row.fetchAll(
                db, sql: "SELECT height, seqs FROM quant_tx WHERE chain = ? AND height > ? ORDER BY height", arguments: [chainData, base])
            {
                let height: Int64 = row["height"]
                for seq in try Self.numbers(row["seqs"]) {
                    seqs.append(seq)
                    rows.append((height, try Self.transaction(try Self.body(seq, with: body), limits: limits, sharing: &fields)))
                }
            }
            let removed = rows.map(\.tx)
            let events = ChainEvent.replacing(
                try Self.removedQuants(chain: chainData, above: base, transactions: rows, in: db), with: branch.map(\.quant),
                after: try Self.lastEvent(chain: chainData, in: db))
            try Self.insert(events, chain: chain, in: db)
            let states = try TransactionRows(db, recent: self.recent)
            for seq in seqs { try states.wait(seq) }
            try db.execute(sql: "DELETE FROM quant_tx WHERE chain = ? AND height > ?", arguments: [chainData, base])
            try db.execute(sql: "DELETE FROM quant WHERE chain = ? AND height > ?", arguments: [chainData, base])
            try db.execute(sql: "DELETE FROM member_event WHERE chain = ? AND height > ?", arguments: [chainData, base])
            for record in branch { try self.insert(record, in: db) }
            return removed.filter { !kept.contains($0.id) }
        }
    }

    // MARK: Mempool

    public func addToMempool(_ transactions: [Transaction]) async throws(StorageError) -> Set<TransactionID> {
        guard !transactions.isEmpty else { return [] }
        // The simulator's one thread runs every step in order: no groups there.
        if blocking { return try await write { db in try self.add(transactions, in: db) } }
        return try await groupedAdmissions.add(transactions) { batches in await self.addGroup(batches) }
    }

    /// Writes groups of admitted batches, each in one database transaction with its checks.
    func addGroup(_ batches: [[Transaction]]) async -> Result<[Set<TransactionID>], StorageError> {
        do throws(StorageError) {
            return .success(try await write { db in try batches.map { batch throws in try self.add(batch, in: db) } })
        } catch {
            return .failure(error)
        }
    }

    /// Stores what is neither committed nor waiting; returns the committed ones. In the same
    /// database transaction as the check, so no commit can come in between.
    private func add(_ transactions: [Transaction], in db: Database) throws -> Set<TransactionID> {
        let rows = try TransactionRows(db, recent: recent)
        var already = Set<TransactionID>()
        for tx in transactions {
            switch try rows.state(of: tx.id.bytes) {
            case .committed: already.insert(tx.id)
            case .waiting: continue
            case nil: _ = try rows.store(tx, chain: tx.chain.bytes, height: nil)
            }
        }
        return already
    }

    public func removeFromMempool(_ ids: [TransactionID]) async throws(StorageError) {
        guard !ids.isEmpty else { return }
        try await write { db in
            let rows = try TransactionRows(db, recent: self.recent)
            for id in ids {
                if case .waiting(let seq) = try rows.state(of: id.bytes) { try rows.forget(seq, id: id.bytes) }
            }
        }
    }

    public func mempool(chain: ChainID, limit: Int, maxBytes: Int, limits: TransactionLimits) async throws(StorageError) -> [Transaction] {
        try await read { db in
            let rows = try Row.fetchCursor(
                db, sql: """
                    SELECT b.body FROM tx_waiting w JOIN tx_body b ON b.seq = w.seq
                    WHERE b.chain = ? ORDER BY w.seq LIMIT ?
                    """, arguments: [Data(chain.bytes), limit])
            var out = [Transaction]()
            var bytes = 0
            // A restart may load a full mempool: its transactions share their chains, senders and types.
            var fields = Transaction.RecentFields()
            while let row = try rows.next() {
                let body: Data = row["body"]
                if !out.isEmpty, bytes + body.count > maxBytes { break }
                bytes += body.count
                out.append(try Self.transaction(Array(body), limits: limits, sharing: &fields))
            }
            return out
        }
    }

    /// A committed transaction can no longer also wait (one body and one state per transaction);
    /// the rows versions before 0.2 could leave are dropped by migration `v9`, and counted here once.
    public func removeCommittedFromMempool() async throws(StorageError) -> Int {
        staleRowsDropped.withLock { count in
            defer { count = 0 }
            return count
        }
    }

    // MARK: Rows

    /// The stored body numbered `seq`, read with `SELECT body FROM tx_body WHERE seq = ?`.
    static func body(_ seq: Int64, with statement: FastStatement) throws -> [UInt8] {
        defer { statement.reset() }
        statement.bind(1, seq)
        guard try statement.step() else { throw StorageError(.corrupt, "the body of stored transaction \(seq) is missing") }
        return statement.bytes(0)
    }

    /// The body numbers of the Quant at `height`, in its order (none for a Quant without transactions).
    static func bodyNumbers(chain: Data, height: Int64, in db: Database) throws -> [Int64] {
        let blob = try Data.fetchOne(
            db, sql: "SELECT seqs FROM quant_tx WHERE chain = ? AND height = ?", arguments: [chain, height])
        return try blob.map(numbers) ?? []
    }

    static func numbers(_ blob: Data) throws -> [Int64] {
        guard blob.count % 8 == 0 else { throw StorageError(.corrupt, "a stored list of transaction numbers is not 8-byte aligned") }
        var out = [Int64]()
        out.reserveCapacity(blob.count / 8)
        blob.withUnsafeBytes { raw in
            for start in stride(from: 0, to: raw.count, by: 8) {
                var value: UInt64 = 0
                for offset in 0..<8 { value = value << 8 | UInt64(raw[start + offset]) }
                out.append(Int64(bitPattern: value))
            }
        }
        return out
    }

    static func appendBigEndian(_ value: Int64, to bytes: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }
}

/// The statements of the per-transaction loops, stepped through SQLite's C interface.
struct TransactionRows {
    enum State: Equatable {
        case waiting(Int64)
        case committed
    }

    private let lookUp: FastStatement
    private let number: FastStatement
    private let heightOf: FastStatement
    private let signature: FastStatement
    private let replaceBody: FastStatement
    private let insertBody: FastStatement
    private let insertWaiting: FastStatement
    private let deleteWaiting: FastStatement
    private let insertHeight: FastStatement
    private let deleteHeight: FastStatement
    private let deleteID: FastStatement
    private let deleteBody: FastStatement
    private let recent: RecentIDs

    init(_ db: Database, recent: RecentIDs) throws {
        self.recent = recent
        lookUp = try FastStatement(db, "SELECT i.seq, h.height FROM tx_id i LEFT JOIN tx_height h ON h.seq = i.seq WHERE i.id = ?")
        number = try FastStatement(db, "SELECT seq FROM tx_id WHERE id = ?")
        heightOf = try FastStatement(db, "SELECT 1 FROM tx_height WHERE seq = ?")
        signature = try FastStatement(db, "SELECT substr(body, -64) FROM tx_body WHERE seq = ?")
        replaceBody = try FastStatement(db, "UPDATE tx_body SET body = ? WHERE seq = ?")
        insertBody = try FastStatement(db, "INSERT INTO tx_body (seq, chain, body) VALUES (?, ?, ?)")
        insertWaiting = try FastStatement(db, "INSERT INTO tx_waiting (seq) VALUES (?)")
        deleteWaiting = try FastStatement(db, "DELETE FROM tx_waiting WHERE seq = ?")
        insertHeight = try FastStatement(db, "INSERT INTO tx_height (seq, height) VALUES (?, ?)")
        deleteHeight = try FastStatement(db, "DELETE FROM tx_height WHERE seq = ?")
        deleteID = try FastStatement(db, "DELETE FROM tx_id WHERE id = ?")
        deleteBody = try FastStatement(db, "DELETE FROM tx_body WHERE seq = ?")
    }

    /// Waiting (with its body's number), committed, or unknown here.
    func state(of id: [UInt8]) throws -> State? {
        if let seq = recent.stagedNumber(of: id) {
            defer { heightOf.reset() }
            heightOf.bind(1, seq)
            return try heightOf.step() ? .committed : .waiting(seq)
        }
        defer { lookUp.reset() }
        lookUp.bind(1, id)
        guard try lookUp.step() else { return nil }
        return lookUp.isNull(1) ? .waiting(lookUp.int64(0)) : .committed
    }

    /// The number of a stored transaction's body (waiting or committed), or nil.
    func number(of id: [UInt8]) throws -> Int64? {
        if let seq = recent.stagedNumber(of: id) { return seq }
        defer { number.reset() }
        number.bind(1, id)
        return try number.step() ? number.int64(0) : nil
    }

    /// Replaces a stored body whose signature is not `tx`'s by `tx`'s binary form.
    func keepSignature(of tx: Transaction, in seq: Int64) throws {
        defer { signature.reset() }
        signature.bind(1, seq)
        guard try signature.step(), signature.bytes(0) != tx.signature.bytes else { return }
        signature.reset()
        replaceBody.bind(1, tx.encoded)
        replaceBody.bind(2, seq)
        try replaceBody.run()
    }

    /// Moves a body from waiting to committed at `height`; false (changing nothing) when it was
    /// not waiting, that is when it is committed already.
    func commitIfWaiting(_ seq: Int64, height: Int64) throws -> Bool {
        deleteWaiting.bind(1, seq)
        guard try deleteWaiting.runCountingChanges() == 1 else { return false }
        try markCommitted(seq, height: height)
        return true
    }

    /// Stores a transaction's body, waiting when `height` is nil, else committed at it; its id is
    /// held in memory until a flush writes it to `tx_id`. Returns the body's number.
    func store(_ tx: Transaction, chain: [UInt8], height: Int64?) throws -> Int64 {
        let seq = recent.newNumber()
        insertBody.bind(1, seq)
        insertBody.bind(2, chain)
        insertBody.bind(3, tx.encoded)
        try insertBody.run()
        recent.stage(tx.id.bytes, seq)
        if let height { try markCommitted(seq, height: height) } else { try wait(seq, wasCommitted: false) }
        return seq
    }

    private func markCommitted(_ seq: Int64, height: Int64) throws {
        insertHeight.bind(1, seq)
        insertHeight.bind(2, height)
        try insertHeight.run()
    }

    /// Moves a body from committed back to waiting (a fork switch removed its Quant).
    func wait(_ seq: Int64, wasCommitted: Bool = true) throws {
        if wasCommitted {
            deleteHeight.bind(1, seq)
            try deleteHeight.run()
        }
        insertWaiting.bind(1, seq)
        try insertWaiting.run()
    }

    /// Deletes a waiting transaction altogether (dropped from the mempool).
    func forget(_ seq: Int64, id: [UInt8]) throws {
        deleteWaiting.bind(1, seq)
        try deleteWaiting.run()
        deleteID.bind(1, id)
        try deleteID.run()
        recent.stageRemoval(id)
        deleteBody.bind(1, seq)
        try deleteBody.run()
    }
}
