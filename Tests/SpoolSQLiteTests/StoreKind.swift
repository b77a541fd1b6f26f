import Foundation
import SpoolCore
import SpoolPostgres
import SpoolSQLite
import Testing

/// The stores the contract tests run against: SQLite always, PostgreSQL
/// when `SPOOL_TEST_POSTGRES` names a server (scripts/test.sh starts one
/// with scripts/postgres.sh; CI must have it).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static let postgresURL = ProcessInfo.processInfo.environment["SPOOL_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let available: [StoreKind] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]

    var testDescription: String { rawValue }

    /// A new, empty store: a SQLite file in a folder of its own, or a
    /// PostgreSQL schema of its own.
    func open() async throws -> any JobStore {
        try await place().open()
    }

    /// Where a new store lives, to open it (again).
    func place() throws -> StorePlace {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-store-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return .sqlite(path: directory.appendingPathComponent("spool.db").path)
        case .postgres:
            var location = try PostgresLocation(url: try #require(Self.postgresURL))
            location.schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            return .postgres(location)
        }
    }

    static func commitCount(of store: any JobStore) -> Int {
        (store as? SQLiteJobStore)?.commitCount ?? (store as? PostgresJobStore)?.commitCount ?? 0
    }
}

enum StorePlace: Sendable {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    func open() async throws -> any JobStore {
        switch self {
        case .sqlite(let path): try SQLiteJobStore(database: SQLiteDatabase(path: path))
        case .postgres(let location): try await PostgresJobStore.open(location, connections: 4)
        }
    }
}

@Suite struct StoreKindTests {
    @Test func ciRunsTheContractOnPostgreSQLToo() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(StoreKind.postgresURL != nil, "CI must start PostgreSQL (scripts/postgres.sh) and set SPOOL_TEST_POSTGRES")
        }
    }
}
