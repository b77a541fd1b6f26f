import Foundation
import SpoolCore
import SpoolHandlers
import SpoolPostgres
import SpoolSQLite

/// The same end-to-end run on each store, alternated (SQLite, PostgreSQL,
/// SQLite, PostgreSQL…) so that the machine's moods fall on both: `spool.echo`
/// jobs enqueued in batches of 1000 and run to SUCCEEDED by 8 workers, every
/// write durable. PostgreSQL is `SPOOL_BENCH_DB` (scripts/postgres.sh start
/// prints one), each run in a schema of its own, dropped after.
func benchStores(jobs: Int, rounds: Int) async throws {
    guard let url = ProcessInfo.processInfo.environment["SPOOL_BENCH_DB"] else {
        print("stores: set SPOOL_BENCH_DB to a postgres:// URL (scripts/postgres.sh start prints one)")
        return
    }
    for round in 1...rounds {
        for kind in ["SQLite", "PostgreSQL"] {
            let store: any JobStore
            var cleanup: () async throws -> Void = {}
            if kind == "SQLite" {
                let (path, sqlite) = try temporaryDatabase()
                store = sqlite
                cleanup = { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            } else {
                var location = try PostgresLocation(url: url)
                location.schema = "bench_\(UInt32.random(in: 0 ... .max))"
                let postgres = try await PostgresJobStore.open(location)
                store = postgres
                cleanup = {
                    postgres.close()
                    var admin = location
                    admin.schema = "public"
                    let dropper = try await PostgresJobStore.open(admin, connections: 1)
                    try await dropper.dropSchema(location.schema)
                    dropper.close()
                }
            }
            let engine = try await startedEngine(on: store)
            let seconds = try await runToSuccess(jobs: jobs, of: "spool.echo", on: engine)
            let commits = (store as? SQLiteJobStore)?.commitCount ?? (store as? PostgresJobStore)?.commitCount ?? 0
            print("stores: round \(round) \(kind): end to end \(format(Double(jobs) / seconds)) jobs/s "
                  + "(\(jobs) spool.echo jobs in batches of 1000, 8 workers, \(format(seconds, 2)) s, \(commits) commits)")
            await engine.shutdown(gracePeriodMs: 0)
            try await cleanup()
        }
    }
}

/// The prototype behind docs/scaling.md: K engines, each owning its own
/// queues on its own PostgreSQL schema of one database, as per-group leases
/// would run them, side by side in this process. Each runs JOBS/K no-op
/// jobs end to end; the figure is their total jobs/s. K = 1 is one leader.
func benchPartitions(jobs: Int, counts: [Int]) async throws {
    guard let url = ProcessInfo.processInfo.environment["SPOOL_BENCH_DB"] else {
        print("partitions: set SPOOL_BENCH_DB to a postgres:// URL (scripts/postgres.sh start prints one)")
        return
    }
    for count in counts {
        var stores: [PostgresJobStore] = []
        var engines: [QueueEngine] = []
        for _ in 0..<count {
            var location = try PostgresLocation(url: url)
            location.schema = "bench_\(UInt32.random(in: 0 ... .max))"
            let store = try await PostgresJobStore.open(location)
            let engine = try await startedEngine(on: store)
            stores.append(store)
            engines.append(engine)
        }
        let share = jobs / count / 1000 * 1000
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Double.self) { group in
            for engine in engines { group.addTask { try await runToSuccess(jobs: share, of: "spool.echo", on: engine) } }
            for try await _ in group {}
        }
        let seconds = elapsed(since: start)
        print("partitions: \(count) engine(s) on one PostgreSQL: \(format(Double(share * count) / seconds)) jobs/s in all "
              + "(\(share) jobs each, end to end, \(format(seconds, 2)) s)")
        for engine in engines { await engine.shutdown(gracePeriodMs: 0) }
        for store in stores {
            store.close()
            var admin = store.location
            admin.schema = "public"
            let dropper = try await PostgresJobStore.open(admin, connections: 1)
            try await dropper.dropSchema(store.location.schema)
            dropper.close()
        }
    }
}
