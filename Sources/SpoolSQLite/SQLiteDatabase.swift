import CSQLite

/// One SQLite connection, owned by one task at a time (not Sendable). Opens
/// in WAL mode, applies the schema migrations it is given, and hands out
/// prepared statements.
///
/// Memory: the `sqlite3 *` is opened in `init` and closed in `deinit`, after
/// every statement (each keeps its database alive) is finalized.
public final class SQLiteDatabase {
    /// How a commit reaches the disk (PRAGMA synchronous).
    public enum Durability: String, Sendable, CaseIterable {
        /// fsync on every commit: a committed transaction survives power loss.
        case full
        /// fsync at WAL checkpoints: survives a crash of the process, not of the machine.
        case normal
    }

    let connection: OpaquePointer
    public let path: String

    /// Process-wide settings, made before the first connection opens.
    private static let configured: Void = {
        _ = spool_sqlite3_disable_memory_statistics()
    }()

    /// Opens (creating it if needed) and migrates the database at `path`.
    public init(path: String, durability: Durability = .full, migrations: [Migration] = Schema.migrations) throws(SQLiteError) {
        Self.configured
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let error = SQLiteError(code: code, connection: handle, context: "cannot open database \(path)")
            sqlite3_close_v2(handle)
            throw error
        }
        self.connection = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        try execute("PRAGMA foreign_keys = ON")
        // Savepoints and multi-row statements journal the pages they change;
        // in temporary files that cost a write per page image.
        try execute("PRAGMA temp_store = MEMORY")
        sqlite3_busy_timeout(handle, 5000)
        try migrate(migrations)
    }

    deinit {
        sqlite3_close_v2(connection)
    }

    /// Called after each commit with the number of pages in the WAL.
    private final class CommitHook {
        let handler: (Int) -> Void
        init(_ handler: @escaping (Int) -> Void) { self.handler = handler }
    }

    private var commitHook: CommitHook?

    /// Checkpoints are left to the caller: SQLite's own run inside a
    /// commit, on the writing thread. `handler` is told, on the committing
    /// thread, how many pages the WAL holds after each commit; the caller
    /// checkpoints (`checkpoint()`, on another connection) when it wants.
    public func takeOverCheckpoints(_ handler: @escaping (_ walPages: Int) -> Void) throws(SQLiteError) {
        try execute("PRAGMA wal_autocheckpoint = 0")
        let hook = CommitHook(handler)
        commitHook = hook  // kept alive as long as the connection
        sqlite3_wal_hook(connection, { context, _, _, pages in
            if let context { Unmanaged<CommitHook>.fromOpaque(context).takeUnretainedValue().handler(Int(pages)) }
            return SQLITE_OK
        }, Unmanaged.passUnretained(hook).toOpaque())
    }

    /// Copies what it can of the WAL back into the database without waiting
    /// for anyone (a passive checkpoint); answers how many pages the WAL held.
    @discardableResult
    public func checkpoint() throws(SQLiteError) -> Int {
        var walPages: Int32 = 0, copied: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &walPages, &copied)
        guard code == SQLITE_OK else { throw SQLiteError(code: code, connection: connection, context: "checkpoint") }
        return Int(walPages)
    }

    /// Runs SQL that returns no rows (one or more statements).
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(connection, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard code == SQLITE_OK else { throw SQLiteError(code: code, connection: connection, context: sql) }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(connection)) }

    /// Whether a transaction is open (SQLite ends one by itself on some
    /// errors: a full disk, an I/O error).
    public var isInTransaction: Bool { sqlite3_get_autocommit(connection) == 0 }

    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(database: self, sql: sql)
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    public func pragma(_ name: String) throws(SQLiteError) -> String? {
        let statement = try prepare("PRAGMA \(name)")
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// The schema version (PRAGMA user_version).
    public func schemaVersion() throws(SQLiteError) -> Int {
        Int(try pragma("user_version") ?? "0") ?? 0
    }

    private func migrate(_ migrations: [Migration]) throws(SQLiteError) {
        let current = try schemaVersion()
        let known = migrations.map(\.version).max() ?? 0
        guard current <= known else {
            throw SQLiteError(
                code: SQLITE_ERROR, connection: nil,
                context: "database \(path) has schema version \(current), newer than this spoold knows (\(known))")
        }
        for migration in migrations.sorted(by: { $0.version < $1.version }) where migration.version > current {
            try execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                try execute(migration.sql)
                try migration.backfill?(self)
                try execute("PRAGMA user_version = \(migration.version)")
                try execute("COMMIT")
            } catch {
                try? execute("ROLLBACK")
                throw error
            }
        }
    }
}

/// One step of the schema: applied once, in a transaction, in version order.
public struct Migration: Sendable {
    public let version: Int
    public let sql: String
    /// Runs after `sql`, in its transaction: what SQL alone cannot write
    /// (rows decoded from a column's encoding).
    public let backfill: (@Sendable (SQLiteDatabase) throws(SQLiteError) -> Void)?

    public init(version: Int, sql: String, backfill: (@Sendable (SQLiteDatabase) throws(SQLiteError) -> Void)? = nil) {
        self.version = version
        self.sql = sql
        self.backfill = backfill
    }
}
