import CSQLite

/// A prepared statement, reused across executions: `bind`, `step` through the
/// rows, `reset`. Column reads are valid until the next `step` or `reset`.
///
/// Memory: finalized in `deinit`; it holds its database so the connection is
/// closed only after it. Text and blob binds are copied by SQLite
/// (SQLITE_TRANSIENT), so the Swift values need not outlive the call.
public final class SQLiteStatement {
    private let statement: OpaquePointer
    private let database: SQLiteDatabase
    public let sql: String

    init(database: SQLiteDatabase, sql: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v3(database.connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw SQLiteError(code: code, connection: database.connection, context: "cannot prepare \(sql)")
        }
        self.statement = handle
        self.database = database
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(statement)
    }

    /// A value for a `?` parameter.
    public enum Value: Equatable, Sendable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    /// Binds parameters 1…n, replacing earlier bindings.
    public func bind(_ values: [Value]) throws(SQLiteError) {
        sqlite3_clear_bindings(statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .null: try bindNull(at: index)
            case .integer(let number): try bind(number, at: index)
            case .real(let number): try bind(number, at: index)
            case .text(let text): try bind(text, at: index)
            case .blob(let bytes): try bind(bytes: bytes, at: index)
            }
        }
    }

    // One parameter at a time (1-based), for the statements run once per
    // job: no array of values to build. Bindings stay until replaced.

    public func bindNull(at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_null(statement, index), index)
    }

    public func bind(_ number: Int64, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_int64(statement, index, number), index)
    }

    /// Nil binds NULL.
    public func bind(optional number: Int64?, at index: Int32) throws(SQLiteError) {
        guard let number else { return try bindNull(at: index) }
        try bind(number, at: index)
    }

    public func bind(_ number: Double, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_double(statement, index, number), index)
    }

    /// Nil binds NULL.
    public func bind(_ text: String?, at index: Int32) throws(SQLiteError) {
        guard var text else { return try bindNull(at: index) }
        let code = text.withUTF8 { utf8 in
            // An empty buffer may have no base address; a null pointer would bind NULL.
            utf8.isEmpty
                ? sqlite3_bind_text(statement, index, "", 0, transient)
                : utf8.withMemoryRebound(to: CChar.self) {
                    sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), transient)
                }
        }
        try check(code, index)
    }

    /// Nil binds NULL.
    public func bind(bytes: [UInt8]?, at index: Int32) throws(SQLiteError) {
        guard let bytes else { return try bindNull(at: index) }
        // An empty array has no base address; a null pointer would bind NULL.
        let code = bytes.isEmpty
            ? sqlite3_bind_zeroblob(statement, index, 0)
            : bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
        try check(code, index)
    }

    private func check(_ code: Int32, _ index: Int32) throws(SQLiteError) {
        guard code == SQLITE_OK else { throw error(code, "cannot bind parameter \(index)") }
    }

    /// Advances to the next row: true if there is one, false when done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw error(code, "cannot run \(sql)")
        }
    }

    /// Ready to run again (bindings are kept).
    public func reset() {
        sqlite3_reset(statement)
    }

    /// Binds, runs to completion, resets: for statements that return no rows.
    public func run(_ values: [Value]) throws(SQLiteError) {
        try bind(values)
        try run()
    }

    /// Runs to completion with the bindings it has, then resets.
    public func run() throws(SQLiteError) {
        defer { reset() }
        while try step() {}
    }

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    public func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    public func real(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
    public func optionalInteger(_ column: Int32) -> Int64? { isNull(column) ? nil : integer(column) }
    public func optionalReal(_ column: Int32) -> Double? { isNull(column) ? nil : real(column) }

    public func text(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(statement, column) else { return nil }
        return String(cString: text)
    }

    public func blob(_ column: Int32) -> [UInt8]? {
        guard !isNull(column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    private func error(_ code: Int32, _ context: String) -> SQLiteError {
        SQLiteError(code: code, connection: database.connection, context: context)
    }
}

/// SQLite's SQLITE_TRANSIENT: "copy the value now". The C macro is a cast
/// Swift cannot import.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
