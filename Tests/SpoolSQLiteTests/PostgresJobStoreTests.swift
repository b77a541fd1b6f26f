import Foundation
import PostgresNIO
import SpoolCore
@testable import SpoolPostgres
import Testing

/// What only the PostgreSQL store does: its location URL, schema versions
/// and write fencing. The contract it shares with SQLite is
/// JobStoreContractTests.
@Suite(.timeLimit(.minutes(1)))
struct PostgresJobStoreTests {
    @Test func aLocationIsReadFromItsURLAndBadOnesAreNamed() throws {
        let location = try PostgresLocation(url: "postgres://spool:secret@db.example:6543/jobs?schema=team_a&sslmode=require")
        #expect(location.host == "db.example" && location.port == 6543 && location.username == "spool")
        #expect(location.password == "secret" && location.database == "jobs" && location.schema == "team_a")
        #expect(location.sslMode == .require)
        #expect(!location.description.contains("secret"))
        let socket = try PostgresLocation(url: "postgresql://me@/jobs?host=/run/postgresql")
        #expect(socket.socketDirectory == "/run/postgresql" && socket.schema == "spool" && socket.database == "jobs")
        #expect(try PostgresLocation(url: "postgres://me@h").database == "me")
        let bad = [
            "mysql://me@h/db": "not a postgres:// URL",
            "postgres://h/db": "names no user",
            "postgres://me@h/db?schema=Robert';DROP": "schema",
            "postgres://me@h/db?sslmode=maybe": "sslmode",
            "postgres://me@h/db?colour=red": "unknown URL parameter",
            "postgres://me@h:0/db": "port 0",
        ]
        for (url, words) in bad {
            #expect { try PostgresLocation(url: url) } throws: { "\($0)".contains(words) }
        }
        #expect { try PostgresLocation(url: "mysql://me:pw@h/db") } throws: { !"\($0)".contains("pw") }
    }

    @Test func thePayloadCacheKeepsToItsBudgetOldestOut() {
        let cache = PayloadCache(budget: 64 * 200)  // entries of up to 200 bytes; each costs its bytes + 64
        for seq in 1...100 { cache.keep(Array(repeating: UInt8(seq), count: 100), forSeq: Int64(seq)) }
        #expect(cache.count == 78)  // 78 × 164 = 12,792 ≤ 12,800: the 22 oldest went
        #expect(cache.take(1) == nil && cache.take(22) == nil)
        #expect(cache.take(23) == Array(repeating: 23, count: 100))
        #expect(cache.take(23) == nil)  // handed out once
        cache.keep(Array(repeating: 0, count: 201), forSeq: 500)  // over a 64th of the budget: not kept
        #expect(cache.take(500) == nil)
        for seq in 101...5_000 { cache.keep([1], forSeq: Int64(seq)) }
        #expect(cache.take(5_000) == [1] && cache.count <= 64 * 200 / 65)
    }

    @Test func aGroupIsSplitIntoStatementsByRowsAndByPayloadBytes() {
        func job(_ seq: Int64, bytes: Int) -> NewJob {
            NewJob(JobRecord(id: "job-\(seq)", seq: seq, queue: "q", type: "t", state: .queued, maxAttempts: 1,
                             timeoutMs: 0, runAtMs: 0, createdAtMs: 0), payload: [UInt8](repeating: 0, count: bytes))
        }
        let mebibytes = (1...40).map { job(Int64($0), bytes: 4 << 20) }  // 160 MiB: 16 per statement
        #expect(PostgresJobStore.statements(of: mebibytes).map(\.count) == [16, 16, 8])
        let small = (1...25_000).map { job(Int64($0), bytes: 1) }
        #expect(PostgresJobStore.statements(of: small).map(\.count) == [10_000, 10_000, 5_000])
        let huge = [job(1, bytes: 65 << 20), job(2, bytes: 1)]  // a job over the budget goes alone
        #expect(PostgresJobStore.statements(of: huge).map(\.count) == [1, 1])
        #expect(PostgresJobStore.statements(of: []).isEmpty)
    }

    static let enabled = StoreKind.postgresURL != nil

    private func job(_ seq: Int64) -> NewJob {
        NewJob(JobRecord(id: "job-\(seq)", seq: seq, queue: "default", type: "spool.echo", state: .queued,
                         maxAttempts: 3, timeoutMs: 1_000, runAtMs: 0, createdAtMs: 1_000), payload: [1])
    }

    @Test(.enabled(if: enabled)) func aFencedStoreWritesNothingOnceItsTokenIsGone() async throws {
        guard case .postgres(let location) = try StoreKind.postgres.place() else { return }
        let store = try await PostgresJobStore.open(location, connections: 2)
        let lease = LeaderLease(store: store, holder: "node-a", address: "127.0.0.1:1", leaseSeconds: 5)
        let token = try #require(try await lease.tryAcquire())
        store.fence(token: token)
        #expect(try await store.insert([job(1)]) == [.inserted])
        // Another node takes the lease over (as if this one's had expired).
        let other = LeaderLease(store: store, holder: "node-b", address: "127.0.0.1:2", leaseSeconds: 5)
        try await other.expireForTests()
        let newToken = try #require(try await other.tryAcquire())
        #expect(newToken == token + 1)
        await #expect { try await store.insert([job(2)]) } throws: { "\($0)".contains("not the leader any more") }
        // A job whose id carries its seq goes in one statement with its fence: refused the same.
        var generator = JobIDGenerator(seed: 1)
        var carried = job(3)
        carried.record.jobID = generator.next(nowMs: 1_000, seq: 3)
        await #expect { try await store.insert([carried]) } throws: { "\($0)".contains("not the leader any more") }
        #expect(try await store.job(id: carried.record.id) == nil)
        var record = job(1).record
        record.state = .succeeded
        await #expect(throws: PostgresStoreError.self) { try await store.update([record]) }
        await #expect(throws: PostgresStoreError.self) { try await store.save(QueueOverride(paused: true), forQueue: "q") }
        #expect(try await store.job(id: "job-2") == nil)
        #expect(try await store.job(id: "job-1")?.state == .queued)
        #expect(try await store.queueOverrides().isEmpty)
        // The new holder's writes go through.
        store.fence(token: newToken)
        #expect(try await store.insert([job(2)]) == [.inserted])
    }

    @Test(.enabled(if: enabled)) func aLeaseIsHeldUntilItExpiresAndRenewedOnlyByItsHolder() async throws {
        guard case .postgres(let location) = try StoreKind.postgres.place() else { return }
        let store = try await PostgresJobStore.open(location, connections: 2)
        let a = LeaderLease(store: store, holder: "node-a", address: "10.0.0.1:50051", leaseSeconds: 30)
        let b = LeaderLease(store: store, holder: "node-b", address: "10.0.0.2:50051", leaseSeconds: 30)
        let token = try #require(try await a.tryAcquire())
        #expect(try await b.tryAcquire() == nil)
        #expect(try await b.current()?.address == "10.0.0.1:50051")
        #expect(try await a.renew(token: token))
        #expect(try await b.renew(token: token) == false)
        try await a.expireForTests()
        #expect(try await b.tryAcquire() == token + 1)
        #expect(try await a.renew(token: token) == false)
        #expect(try await a.current()?.holder == "node-b")
    }

    @Test(.enabled(if: enabled)) func aDatabaseOfANewerSchemaIsRefused() async throws {
        guard case .postgres(let location) = try StoreKind.postgres.place() else { return }
        let store = try await PostgresJobStore.open(location, connections: 1)
        try await store.executeForTests("INSERT INTO spool_schema VALUES (99)")
        await #expect { try await PostgresJobStore.open(location, connections: 1) } throws: {
            "\($0)".contains("schema version 99")
        }
    }

    @Test(.enabled(if: enabled)) func aWorkersNulCharacterIsStoredAsAReplacement() async throws {
        let store = try await StoreKind.postgres.open()
        var record = job(1).record
        _ = try await store.insert([NewJob(record, payload: [])])
        record.progress = JobRecord.Progress(fraction: 0.5, step: "a\0b", message: "")
        try await store.update([record])
        #expect(try await store.job(id: record.id)?.progress.step == "a\u{FFFD}b")
    }
}
