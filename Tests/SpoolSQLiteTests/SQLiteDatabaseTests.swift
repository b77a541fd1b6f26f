import Foundation
import Testing
import SpoolSQLite

/// Each test gets its own database file in a fresh temporary directory.
private func temporaryDatabasePath() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-sqlite-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("spool.db").path
}

struct SQLiteDatabaseTests {
    @Test func opensInWALModeWithTheRequestedDurability() throws {
        let path = try temporaryDatabasePath()
        let full = try SQLiteDatabase(path: path)
        #expect(try full.pragma("journal_mode") == "wal")
        #expect(try full.pragma("synchronous") == "2")  // FULL
        let normal = try SQLiteDatabase(path: try temporaryDatabasePath(), durability: .normal)
        #expect(try normal.pragma("synchronous") == "1")  // NORMAL
    }

    @Test func aTransactionEndedBySQLiteItselfIsSeen() throws {
        let database = try SQLiteDatabase(path: try temporaryDatabasePath())
        try database.execute("CREATE TABLE t (x BLOB)")
        #expect(!database.isInTransaction)
        try database.execute("BEGIN")
        #expect(database.isInTransaction)
        // A full database makes SQLite roll the whole transaction back.
        let pages = try #require(Int(try database.pragma("page_count") ?? ""))
        try database.execute("PRAGMA max_page_count = \(pages + 2)")
        #expect(throws: SQLiteError.self) { try database.execute("INSERT INTO t VALUES (zeroblob(100000))") }
        #expect(!database.isInTransaction)
    }

    @Test func savepointJournalsStayInMemory() throws {
        // In temporary files, each page image a savepoint journals is a write.
        #expect(try SQLiteDatabase(path: try temporaryDatabasePath()).pragma("temp_store") == "2")  // MEMORY
    }

    @Test func migratesToTheLatestSchemaOnceAndKeepsData() throws {
        let path = try temporaryDatabasePath()
        do {
            let database = try SQLiteDatabase(path: path)
            #expect(try database.schemaVersion() == Schema.migrations.map(\.version).max())
            try database.prepare("""
                INSERT INTO jobs (id, seq, queue, type, payload, priority, state, lock_keys, labels,
                                  max_attempts, timeout_ms, run_at_ms, created_at_ms, updated_at_ms)
                VALUES ('a', 1, 'default', 'spool.echo', x'00', 0, 2, x'', x'', 3, 0, 0, 0, 0)
                """).run()
        }
        let reopened = try SQLiteDatabase(path: path)
        let count = try reopened.prepare("SELECT count(*) FROM jobs")
        #expect(try count.step())
        #expect(count.integer(0) == 1)
    }

    @Test func refusesADatabaseFromANewerSpoold() throws {
        let path = try temporaryDatabasePath()
        try SQLiteDatabase(path: path).execute("PRAGMA user_version = 99")
        #expect { try SQLiteDatabase(path: path) } throws: { error in
            (error as? SQLiteError)?.context.contains("schema version 99, newer than this spoold knows") == true
        }
    }

    @Test func anUnopenablePathFailsWithSQLitesReason() {
        #expect { try SQLiteDatabase(path: "/nonexistent-dir/spool.db") } throws: { error in
            let error = error as? SQLiteError
            return error?.context == "cannot open database /nonexistent-dir/spool.db" && error?.message.isEmpty == false
        }
    }

    @Test func valuesRoundTripThroughBindAndColumns() throws {
        let database = try SQLiteDatabase(path: try temporaryDatabasePath(), migrations: [])
        try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n BLOB)")
        try database.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)")
            .run([.integer(Int64.min), .real(0.25), .text("ünï\u{0}code"), .blob([0, 255, 7]), .null])
        try database.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)")
            .run([.integer(1), .real(-1), .text(""), .blob([]), .blob([])])
        let select = try database.prepare("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        #expect(try select.step())
        #expect(select.integer(0) == Int64.min)
        #expect(select.real(1) == 0.25)
        #expect(select.text(2) == "ünï")  // text stops at NUL, as C strings do
        #expect(select.blob(3) == [0, 255, 7])
        #expect(select.isNull(4) && select.blob(4) == nil)
        #expect(try select.step())
        #expect(select.text(2) == "")
        #expect(select.blob(3) == [] && !select.isNull(3))
        #expect(try select.step() == false)
    }

    @Test func checkpointsCanBeLeftToAnotherConnection() throws {
        let path = try temporaryDatabasePath()
        let writer = try SQLiteDatabase(path: path, migrations: [])
        var walPages: [Int] = []
        try writer.takeOverCheckpoints { walPages.append($0) }
        try writer.execute("CREATE TABLE t (v BLOB)")
        let insert = try writer.prepare("INSERT INTO t VALUES (zeroblob(10000))")
        for _ in 0..<5 { try insert.run() }
        // One call per commit, and the WAL only grows: the writer never checkpoints.
        #expect(walPages.count == 6 && walPages == walPages.sorted() && walPages.last! > 10)
        let reader = try SQLiteDatabase(path: path, migrations: [])
        #expect(try reader.checkpoint() == walPages.last!)
        // All of it copied back, the next commit starts the WAL over.
        try insert.run()
        #expect(walPages.last! < 10)
    }

    @Test func aStatementIsReusedAcrossRuns() throws {
        let database = try SQLiteDatabase(path: try temporaryDatabasePath(), migrations: [])
        try database.execute("CREATE TABLE t (v INTEGER)")
        let insert = try database.prepare("INSERT INTO t VALUES (?)")
        for value in 0..<100 { try insert.run([.integer(Int64(value))]) }
        let sum = try database.prepare("SELECT sum(v) FROM t")
        #expect(try sum.step() && sum.integer(0) == 4950)
    }

    @Test func aThrowingTransactionRollsBack() throws {
        struct Abort: Error {}
        let database = try SQLiteDatabase(path: try temporaryDatabasePath(), migrations: [])
        try database.execute("CREATE TABLE t (v INTEGER)")
        #expect(throws: Abort.self) {
            try database.transaction {
                try database.prepare("INSERT INTO t VALUES (1)").run()
                throw Abort()
            }
        }
        try database.transaction { try database.prepare("INSERT INTO t VALUES (2)").run() }
        let values = try database.prepare("SELECT group_concat(v) FROM t")
        #expect(try values.step() && values.text(0) == "2")
    }

    @Test func constraintViolationsCarrySQLitesMessage() throws {
        let database = try SQLiteDatabase(path: try temporaryDatabasePath(), migrations: [])
        try database.execute("CREATE TABLE t (v INTEGER UNIQUE)")
        let insert = try database.prepare("INSERT INTO t VALUES (?)")
        try insert.run([.integer(1)])
        #expect { try insert.run([.integer(1)]) } throws: { error in
            (error as? SQLiteError)?.message == "UNIQUE constraint failed: t.v"
        }
    }
}
