import Foundation
import Testing
import SpoolCore
import SpoolSQLite

private func temporaryPath() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-store-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("spool.db").path
}

private func record(_ seq: Int64, state: JobState = .queued, key: String? = nil) -> JobRecord {
    JobRecord(id: "job-\(seq)", seq: seq, queue: "default", type: "spool.echo", state: state,
              idempotencyKey: key, maxAttempts: 3, timeoutMs: 1_000, runAtMs: 0, createdAtMs: 1_000 + seq)
}

/// What only the SQLite store does: the contract every store keeps is
/// JobStoreContractTests.
@Suite(.timeLimit(.minutes(1)))
struct SQLiteJobStoreTests {
    @Test(arguments: [false, true])
    func aFullDiskFailsTheWholeCommitAndNoCallIsStoredWhileToldItFailed(idsCarrySeqs: Bool) async throws {
        // SQLite ends the transaction by itself on SQLITE_FULL: the calls
        // stored before it are undone, and none after it may run on their
        // own (each would be committed at once while its caller is told the
        // commit failed).
        let path = try temporaryPath()
        let database = try SQLiteDatabase(path: path)
        let store = try SQLiteJobStore(database: database)
        let pages = try #require(Int(try database.pragma("page_count") ?? ""))
        try database.execute("PRAGMA max_page_count = \(pages + 20)")
        var ids = JobIDGenerator(seed: 9)
        func job(_ seq: Int64, bytes: Int) -> NewJob {
            var job = record(seq)
            if idsCarrySeqs { job.jobID = ids.next(nowMs: 1_000, seq: seq) }
            return NewJob(job, payload: [UInt8](repeating: 7, count: bytes))
        }
        // Whether each call was told its jobs were stored (a failed commit fails them all).
        var told: [Bool]
        do {
            told = try await store.insert(calls: [[job(1, bytes: 10)], [job(2, bytes: 1_000_000)], [job(3, bytes: 10)]])
                .map { (try? $0.get()) != nil }
        } catch {
            told = [false, false, false]
        }
        let stored = Set(try await store.unfinishedJobs().map(\.seq))
        #expect(told == [1, 2, 3].map { stored.contains($0) })
        #expect(!told[1])
        // The store goes on once there is room.
        try database.execute("PRAGMA max_page_count = 1000000")
        #expect(try await store.insert([job(4, bytes: 10)]) == [.inserted])
    }

    @Test func theStoreCheckpointsOnItsReaderOnceTheWALIsLarge() async throws {
        let path = try temporaryPath()
        let store = try SQLiteJobStore(database: SQLiteDatabase(path: path))
        let big = (1...3000).map { NewJob(record(Int64($0)), payload: Array(repeating: 7, count: 4096)) }
        _ = try await store.insert(big)                // a WAL of some 3000 pages asks for a checkpoint
        _ = try await store.job(id: "job-1")           // runs after it, on the same queue
        _ = try await store.insert([NewJob(record(3001), payload: [])])
        // The checkpoint copied everything back, so that commit started the WAL over.
        #expect(try SQLiteDatabase(path: path).checkpoint() < 100)
    }

    @Test func aVersion1DatabaseIsMigratedWithEveryJobFoundByItsId() async throws {
        let path = try temporaryPath()
        do {
            let version1 = try SQLiteDatabase(path: path, migrations: Array(Schema.migrations.prefix(1)))
            #expect(try version1.schemaVersion() == 1)
            try version1.execute("""
                INSERT INTO jobs (id, seq, queue, type, payload, priority, state, idempotency_key, lock_keys, labels,
                                  max_attempts, timeout_ms, run_at_ms, batch_id, created_at_ms, updated_at_ms)
                VALUES ('0190a5b6-c7d8-7abc-8def-0123456789ab', 1, 'default', 'spool.echo', x'07', 0, 2, 'k', x'', x'',
                        3, 0, 0, 'b', 10, 10),
                       ('legacy', 2, 'default', 'spool.echo', x'08', 0, 4, NULL, x'', x'', 3, 0, 0, 'b', 11, 11)
                """)
        }
        let store = try SQLiteJobStore(database: SQLiteDatabase(path: path))
        #expect(try await store.job(id: "0190a5b6-c7d8-7abc-8def-0123456789ab")?.seq == 1)
        #expect(try await store.job(id: "legacy")?.state == .succeeded)
        #expect(try await store.payload(ofJobSeq: 1) == [7])
        #expect(try await store.unfinishedJobs().map(\.seq) == [1])
        #expect(try await store.stateCounts(ofBatch: "b").total == 2)
        #expect(try await store.lastSeq() == 2)
        #expect(try await store.insert([NewJob(record(3, key: "k"), payload: [])]) == [.duplicate(of: "0190a5b6-c7d8-7abc-8def-0123456789ab")])
        // Pruning a job forgets its id too.
        let database = try SQLiteDatabase(path: path)
        try database.execute("UPDATE jobs SET finished_at_ms = 5 WHERE seq = 2")
        #expect(try await store.pruneFinished(beforeMs: 100, limit: 10) == 1)
        let others = try database.prepare("SELECT count(*) FROM other_job_ids")
        #expect(try others.step() && others.integer(0) == 1)
    }
}
