import CSQLite

/// A failed SQLite call: its result code, SQLite's own message, and what
/// Spool was doing.
public struct SQLiteError: Error, CustomStringConvertible, Equatable {
    public let code: Int32
    public let message: String
    public let context: String

    public var description: String { "\(context): \(message) (SQLite error \(code))" }

    init(code: Int32, connection: OpaquePointer?, context: String) {
        self.code = code
        self.message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        self.context = context
    }
}
