import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store lives, parsed from `--db` (or `db:`):
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&sslmode=MODE&host=SOCKET_DIR]
///
/// `schema` keeps Spool's tables in a schema of their own (default
/// `spool`), so that one database can hold several Spools or share with
/// other programs. `sslmode` is `disable`, `prefer` (the default) or
/// `require`; `host` names a Unix socket folder instead of a TCP host, as
/// libpq's URLs do.
public struct PostgresLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The folder of the server's Unix socket; nil: TCP to host and port.
    public var socketDirectory: String?
    public var username: String
    public var password: String?
    public var database: String
    public var schema: String
    public var sslMode: SSLMode

    public enum SSLMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    /// Whether `text` names PostgreSQL rather than a SQLite file.
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(url text: String) throws(PostgresStoreError) {
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw .badLocation("\(Self.redacted(text)) is not a postgres:// URL")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        for name in query.keys where !["schema", "sslmode", "host"].contains(name) {
            throw .badLocation("unknown URL parameter \"\(name)\" (known: schema, sslmode, host)")
        }
        socketDirectory = query["host"].flatMap { $0.isEmpty ? nil : $0 }
        host = components.host ?? ""
        guard !host.isEmpty || socketDirectory != nil else { throw .badLocation("the URL names no host") }
        port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw .badLocation("port \(port) is outside 1…65535") }
        username = components.user ?? ""
        guard !username.isEmpty else { throw .badLocation("the URL names no user (postgres://USER@HOST/DATABASE)") }
        password = components.password
        database = String(components.path.drop { $0 == "/" })
        if database.isEmpty { database = username }
        schema = query["schema"] ?? "spool"
        guard Self.isPlainName(schema) else {
            throw .badLocation("schema \"\(schema)\" must be 1 to 63 lowercase letters, digits and _, not starting with a digit")
        }
        let mode = query["sslmode"] ?? "prefer"
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw .badLocation("sslmode \"\(mode)\" is not one of disable, prefer, require")
        }
        self.sslMode = sslMode
    }

    /// A name that needs no quoting in SQL.
    static func isPlainName(_ name: String) -> Bool {
        guard (1...63).contains(name.utf8.count), let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { return false }
        return name.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        if let socketDirectory {
            return "postgres://\(username)@:\(port)/\(database)?host=\(socketDirectory) (schema \(schema))"
        }
        return "postgres://\(username)@\(host):\(port)/\(database) (schema \(schema))"
    }

    /// One connection's settings, for the probe that names what is wrong
    /// when the pool cannot connect (its own error says only that it gave up).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username,
                                  password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch sslMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    static func redacted(_ text: String) -> String {
        guard let components = URLComponents(string: text), components.password != nil else { return text }
        var copy = components
        copy.password = "…"
        return copy.string ?? "the URL"
    }

    /// postgres-nio's client settings: `connections` at most, Spool's schema first on the search path.
    func clientConfiguration(connections: Int, idleTransactionTimeout: Duration) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username,
                                  password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch sslMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(.makeClientConfiguration())
            case .require: tls = .require(.makeClientConfiguration())
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = connections
        configuration.options.minimumConnections = 1
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [
            ("search_path", schema), ("application_name", "spoold"),
            // A node paused inside a transaction (SIGSTOP, a stalled
            // process) holds its share lock of the lease row: the server
            // ends such a session, so that another node can take over.
            ("idle_in_transaction_session_timeout", String(max(1, idleTransactionTimeout.components.seconds * 1000
                + idleTransactionTimeout.components.attoseconds / 1_000_000_000_000_000))),
        ]
        return configuration
    }
}

/// What the PostgreSQL store reports, in words a reader of spoold's log or
/// a gRPC status can act on.
public enum PostgresStoreError: Error, CustomStringConvertible, Equatable {
    case badLocation(String)
    /// The database says something; `message` is the server's words (and its SQLSTATE).
    case database(String)
    /// The lease this node's writes were fenced with was taken by another node.
    case fenced(String)
    /// A row the store cannot read.
    case corrupt(String)
    case schemaTooNew(Int64, known: Int64)

    public var description: String {
        switch self {
        case .badLocation(let message): "bad PostgreSQL location: \(message)"
        case .database(let message): "PostgreSQL: \(message)"
        case .fenced(let message): "not the leader any more: \(message)"
        case .corrupt(let message): "PostgreSQL store: \(message)"
        case .schemaTooNew(let found, let known):
            "the database has Spool schema version \(found); this spoold knows up to \(known): run a newer spoold"
        }
    }

    /// `error` as this type, with postgres-nio's server message spelled out
    /// (its own description hides it).
    static func from(_ error: any Error) -> PostgresStoreError {
        if let error = error as? PostgresStoreError { return error }
        if let error = error as? PSQLError {
            if let info = error.serverInfo {
                let message = info[.message] ?? "error"
                let detail = info[.detail].map { " (\($0))" } ?? ""
                return .database("\(message)\(detail) [SQLSTATE \(info[.sqlState] ?? "?")]")
            }
            return .database("\(error.code)\(error.underlying.map { ": \($0)" } ?? "")")
        }
        return .database("\(error)")
    }

    /// The SQLSTATE of a server's error, if it is one.
    static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
