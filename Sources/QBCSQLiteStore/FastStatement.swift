import GRDB
import GRDBSQLite
import QBCCrypto

/// A prepared statement stepped through SQLite's C interface. The per-transaction loops of a
/// commit and of admission run one of these per transaction, where GRDB's argument arrays and
/// `Data` copies cost more than SQLite's own work (issue 18). Always used inside one of GRDB's
/// database accesses; the statement is reset after each use, so GRDB can reuse it.
struct FastStatement {
    private let statement: Statement
    private var handle: SQLiteStatement { statement.sqliteStatement }

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }
    func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }
    func bind(_ index: Int32, _ bytes: [UInt8]) { bytes.withUnsafeBytes { bind(index, raw: $0) } }
    func bind(_ index: Int32, _ key: HashKey) { key.withUnsafeBytes { bind(index, raw: $0) } }

    private func bind(_ index: Int32, raw: UnsafeRawBufferPointer) {
        // SQLITE_TRANSIENT: SQLite copies the bytes before this returns.
        _ = sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), Self.transient)
    }

    /// Steps once: true when a row is there to read, false when the statement is done.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }

    /// Runs a statement that returns no rows, then makes it ready for the next use.
    func run() throws {
        defer { reset() }
        _ = try step()
    }

    /// Runs a statement that returns no rows; the rows it changed.
    func runCountingChanges() throws -> Int {
        try run()
        return Int(sqlite3_changes(sqlite3_db_handle(handle)))
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    /// A blob column of the current row, copied.
    func bytes(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let base = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
