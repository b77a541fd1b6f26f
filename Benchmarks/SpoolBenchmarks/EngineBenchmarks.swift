import Foundation
import SpoolCore
import SpoolHandlers
import SpoolSQLite

func temporaryDatabase() throws -> (path: String, store: SQLiteJobStore) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-bench-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent("spool.db").path
    return (path, try SQLiteJobStore(database: SQLiteDatabase(path: path, durability: .full)))
}

func elapsed(since start: ContinuousClock.Instant) -> Double {
    let duration = start.duration(to: .now).components
    return Double(duration.seconds) + Double(duration.attoseconds) / 1e18
}

func format(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }

/// The engine in process on a real SQLite file (synchronous=FULL): no-op
/// jobs end to end, then the scale figures at JOBS waiting jobs.
func benchEngine(jobs: Int) async throws {
    try await benchEndToEnd(jobs: 200_000)
    try await benchWaiting(jobs: jobs)
}

/// `spool.echo` jobs enqueued in batches of 1000 while 8 workers run them;
/// jobs/s from the first enqueue to the last SUCCEEDED event (each terminal
/// state committed before its event).
@discardableResult
func benchEndToEnd(jobs: Int) async throws -> Double {
    let (path, store) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let engine = try await startedEngine(on: store)
    let seconds = try await runToSuccess(jobs: jobs, of: "spool.echo", on: engine)
    print("engine: end to end \(format(Double(jobs) / seconds)) no-op jobs/s (\(jobs) spool.echo jobs enqueued in batches of 1000 and run to SUCCEEDED by 8 workers in \(format(seconds, 2)) s, \(store.commitCount) commits)")
    await engine.shutdown(gracePeriodMs: 0)
    return Double(jobs) / seconds
}

/// A started engine on `store` with the built-in handlers, 8 workers, 8 a
/// queue and no limit on what a subscriber holds, as the end-to-end
/// benchmarks run it; `configure` changes the rest.
func startedEngine(on store: any JobStore, _ configure: (inout EngineConfiguration) -> Void = { _ in }) async throws -> QueueEngine {
    var configuration = EngineConfiguration()
    configuration.workers = 8
    configuration.queueDefaults.concurrency = 8
    configuration.subscriberBufferLimit = Int.max
    configure(&configuration)
    let clock = SystemClock()
    let engine = QueueEngine(configuration: configuration, store: store, clock: clock, handlers: BuiltinHandlers.all(clock: clock))
    try await engine.start()
    return engine
}

/// Enqueues `jobs` no-op jobs of `type` in batches of 1000 and answers the
/// seconds from the first enqueue to the last SUCCEEDED event.
func runToSuccess(jobs: Int, of type: String, on engine: QueueEngine) async throws -> Double {
    let events = try await engine.subscribe(.queue("default"))
    let start = ContinuousClock.now
    let producer = Task {
        for _ in 0..<(jobs / 1000) {
            _ = try await engine.enqueue(Array(repeating: JobRequest(type: type, payload: [1]), count: 1000),
                                         batchLabels: [:])
        }
    }
    var succeeded = 0
    for try await event in events where event.kind == .state && event.job.record.state == .succeeded {
        succeeded += 1
        if succeeded == jobs { break }
    }
    try await producer.value
    return elapsed(since: start)
}

/// JOBS jobs waiting behind one long job: RSS per waiting job, the cost of
/// asking a job's position, and the time a restart takes to load them back.
private func benchWaiting(jobs: Int) async throws {
    let (path, store) = try temporaryDatabase()
    var configuration = EngineConfiguration()
    configuration.workers = 1
    configuration.queueDefaults.maxDepth = 0
    let clock = SystemClock()
    let handlers = BuiltinHandlers.all(clock: clock)
    let engine = QueueEngine(configuration: configuration, store: store, clock: clock, handlers: handlers)
    try await engine.start()
    _ = try await engine.enqueue([JobRequest(type: "spool.sleep", payload: Array(#"{"steps":1,"step_ms":3600000}"#.utf8))])

    let rssBefore = residentBytes()
    var probes: [String] = []
    let start = ContinuousClock.now
    for batch in 0..<(jobs / 1000) {
        let requests = (0..<1000).map { JobRequest(type: "spool.echo", payload: [1], priority: Int32(($0 + batch) % 10)) }
        let result = try await engine.enqueue(requests, batchLabels: [:])
        probes.append(result.items[batch % 1000].job.record.id)
    }
    let enqueueSeconds = elapsed(since: start)
    let rssAfter = residentBytes()
    print("engine: \(jobs) jobs enqueued in batches of 1000 in \(format(enqueueSeconds, 2)) s (\(format(Double(jobs) / enqueueSeconds)) jobs/s in process)")
    print("engine: \((rssAfter - rssBefore) / jobs) bytes of RSS per waiting job (engine and SQLite together)")

    let lookups = 20_000
    var checksum = 0
    let lookupStart = ContinuousClock.now
    for index in 0..<lookups {
        checksum &+= try await engine.status(jobIDs: [probes[index % probes.count]]).jobs[0].position
    }
    let lookupSeconds = elapsed(since: lookupStart)
    print("engine: queue position of a job \(format(lookupSeconds / Double(lookups) * 1e6, 2)) µs at \(jobs) waiting jobs (a status call for one job, actor hop included; checksum \(checksum))")
    await engine.shutdown(gracePeriodMs: 0)

    let restarted = QueueEngine(configuration: configuration, store: try SQLiteJobStore(database: SQLiteDatabase(path: path)),
                                clock: clock, handlers: handlers)
    let recoveryStart = ContinuousClock.now
    let report = try await restarted.start()
    let recoverySeconds = elapsed(since: recoveryStart)
    print("engine: restart recovery of \(report.queued + report.requeued) unfinished jobs in \(format(recoverySeconds, 2)) s (\(report.requeued) interrupted)")
    await restarted.shutdown(gracePeriodMs: 0)
    try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
}

/// GetStatus's cost with JOBS jobs waiting, a tenth of them on one held lock
/// key: one job's status (its position), and the whole status.
func benchStatus(jobs: Int) async throws {
    let (path, store) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    var configuration = EngineConfiguration()
    configuration.queueDefaults.concurrency = 1
    configuration.queueDefaults.maxDepth = 0
    configuration.queues = [QueueConfiguration(name: "locked", concurrency: 8, maxDepth: 0)]
    let clock = SystemClock()
    let engine = QueueEngine(configuration: configuration, store: store, clock: clock, handlers: BuiltinHandlers.all(clock: clock))
    try await engine.start()
    // One long job holds the default queue's only slot, another the lock key "repo".
    let long = Array(#"{"steps":1,"step_ms":3600000}"#.utf8)
    var holder = JobRequest(type: "spool.sleep", payload: long, queue: "locked")
    holder.lockKeys = ["repo"]
    _ = try await engine.enqueue([JobRequest(type: "spool.sleep", payload: long), holder])
    var probes: [String] = []
    for batch in 0..<(jobs / 1000) {
        let requests = (0..<1000).map { index in
            guard index % 10 == 0 else { return JobRequest(type: "spool.echo", payload: [1]) }
            var request = JobRequest(type: "spool.echo", payload: [1], queue: "locked")
            request.lockKeys = ["repo"]
            return request
        }
        probes.append(try await engine.enqueue(requests, batchLabels: [:]).items[(batch * 7) % 1000].job.record.id)
    }
    let full = try await engine.status()
    let waiters = full.locks.first { $0.key == "repo" }?.waiters ?? 0
    let lookups = 20_000
    var checksum = 0
    let start = ContinuousClock.now
    for index in 0..<lookups {
        checksum &+= try await engine.status(jobIDs: [probes[index % probes.count]]).jobs[0].position
    }
    let perJob = elapsed(since: start) / Double(lookups)
    let selectedStart = ContinuousClock.now
    for index in 0..<lookups {
        checksum &+= try await engine.status(jobIDs: [probes[index % probes.count]], onlySelected: true).jobs[0].position
    }
    let perSelected = elapsed(since: selectedStart) / Double(lookups)
    let wholeCalls = 200
    let wholeStart = ContinuousClock.now
    for _ in 0..<wholeCalls { checksum &+= try await engine.status().locks.count }
    let perWhole = elapsed(since: wholeStart) / Double(wholeCalls)
    print("status: one job's status \(format(perSelected * 1e6, 2)) µs with only_selected, "
          + "\(format(perJob * 1e6, 2)) µs with everything else; the whole status \(format(perWhole * 1e6, 1)) µs, "
          + "at \(jobs) waiting jobs, \(waiters) of them waiting on one held lock key (actor hop included; checksum \(checksum))")
    await engine.shutdown(gracePeriodMs: 0)
}

/// The time an engine takes to start on an existing database (`spoold
/// --db PATH`'s recovery), and the RSS it then holds.
func benchRecovery(path: String) async throws {
    let clock = SystemClock()
    let rssBefore = residentBytes()
    let engine = QueueEngine(configuration: EngineConfiguration(), store: try SQLiteJobStore(database: SQLiteDatabase(path: path)),
                             clock: clock, handlers: BuiltinHandlers.all(clock: clock))
    let start = ContinuousClock.now
    let report = try await engine.start()
    let seconds = elapsed(since: start)
    let jobs = report.queued + report.scheduled + report.requeued
    print("recover: \(jobs) unfinished jobs loaded in \(format(seconds, 2)) s; \((residentBytes() - rssBefore) / max(1, jobs)) bytes of RSS per job")
    await engine.shutdown(gracePeriodMs: 0)
}

/// The SQLite store alone (synchronous=FULL): JOBS new jobs inserted in
/// transactions of 1000, as an EnqueueBatch writes them; the writer's
/// ceiling on EnqueueBatch throughput.
func benchStore(jobs: Int) async throws {
    let (path, store) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    var generator = JobIDGenerator(seed: 1)
    var seq: Int64 = 0
    func newJob(batchID: String? = nil) -> NewJob {
        seq += 1
        let record = JobRecord(id: generator.next(nowMs: 1_800_000_000_000, seq: seq), seq: seq, queue: "default",
                               type: "spool.echo", state: .queued, maxAttempts: 3, timeoutMs: 0, runAtMs: 0,
                               batchId: batchID, createdAtMs: 1_800_000_000_000)
        return NewJob(record, payload: [1])
    }
    let batches = (0..<(jobs / 1000)).map { _ in
        let batchID = generator.next(nowMs: 1_800_000_000_000)
        return (0..<1000).map { _ in newJob(batchID: batchID) }
    }
    var start = ContinuousClock.now
    for batch in batches { _ = try await store.insert(batch) }
    var seconds = elapsed(since: start)
    print("store: \(format(Double(jobs) / seconds)) jobs/s inserted in transactions of 1000 (\(format(seconds / Double(jobs) * 1e6, 2)) µs a job)")
    // Unary Enqueues under load: calls of one job each, 256 to a commit.
    let groups = (0..<(jobs / 256)).map { _ in (0..<256).map { _ in [newJob()] } }
    start = ContinuousClock.now
    for group in groups { _ = try await store.insert(calls: group) }
    seconds = elapsed(since: start)
    let calls = groups.count * 256
    print("store: \(format(Double(calls) / seconds)) single-job calls/s, 256 to a commit (\(format(seconds / Double(calls) * 1e6, 2)) µs a call)")
}

/// Single-job enqueues from 256 concurrent callers, in process: the engine
/// and store's share of a unary Enqueue (no gRPC).
func benchSingleEnqueues(jobs: Int) async throws {
    let (path, store) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    var configuration = EngineConfiguration()
    configuration.queueDefaults.maxDepth = 0
    let clock = SystemClock()
    let engine = QueueEngine(configuration: configuration, store: store, clock: clock, handlers: BuiltinHandlers.all(clock: clock))
    try await engine.start()
    let callers = 256
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<callers {
            group.addTask {
                var request = JobRequest(type: "spool.echo", payload: [1])
                request.runAtMs = 4_000_000_000_000  // far ahead: the figure is the enqueue path alone
                for _ in 0..<(jobs / callers) {
                    _ = try await engine.enqueue([request])
                }
            }
        }
        try await group.waitForAll()
    }
    let seconds = elapsed(since: start)
    print("engine: \(format(Double(jobs) / seconds)) single-job enqueues/s from \(callers) concurrent callers (\(store.commitCount) commits)")
    await engine.shutdown(gracePeriodMs: 0)
}

/// ListJobs on the SQLite store at JOBS retained jobs (10 queues, 5 types,
/// every state, a label on one job in ten, batches of 1000): the time of
/// one page of 50 for each kind of filter, and of the total that comes
/// with a first page.
func benchList(jobs: Int) async throws {
    let (path, store) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    var generator = JobIDGenerator(seed: 1)
    var seq: Int64 = 0
    let start = ContinuousClock.now
    for _ in 0..<(jobs / 1000) {
        let batchID = generator.next(nowMs: 1_800_000_000_000)
        let batch = (0..<1000).map { _ -> NewJob in
            seq += 1
            let n = Int(seq)
            var record = JobRecord(
                id: generator.next(nowMs: 1_800_000_000_000 + seq, seq: seq), seq: seq, queue: "q\(n % 10)",
                type: "t\(n % 5)", state: JobState.allCases[(n / 7) % 6], maxAttempts: 3, timeoutMs: 0, runAtMs: 0,
                batchId: batchID, labels: n % 10 == 0 ? ["repo": "r\(n % 1000)"] : [:], createdAtMs: 1_800_000_000_000 + seq)
            if record.state.isTerminal { record.finishedAtMs = record.createdAtMs }
            return NewJob(record, payload: [1])
        }
        _ = try await store.insert(batch)
    }
    print("list: \(jobs) jobs stored in \(format(elapsed(since: start), 1)) s")
    func query(_ body: (inout JobQuery) -> Void) -> JobQuery {
        var query = JobQuery()
        body(&query)
        return query
    }
    let middle = 1_800_000_000_000 + Int64(jobs / 2)
    let cases: [(String, JobQuery)] = [
        ("no filter", query { _ in }),
        ("queue", query { $0.queue = "q3" }),
        ("queue + state", query { $0.queue = "q3"; $0.states = [.failed] }),
        ("two states", query { $0.states = [.failed, .cancelled] }),
        ("type", query { $0.type = "t2" }),
        ("label", query { $0.labels = ["repo": "r470"] }),
        ("label + state", query { $0.labels = ["repo": "r470"]; $0.states = [.queued] }),
        ("batch", query { $0.batchID = "nope" }),
        ("created in a minute", query { $0.createdAfterMs = middle; $0.createdBeforeMs = middle + 60_000 }),
        ("queue, oldest first", query { $0.queue = "q3"; $0.oldestFirst = true }),
    ]
    for (name, base) in cases {
        // A later page (from the first page's token) is what paging costs; the first carries the count.
        let first = try await store.jobs(matching: base)
        var next = base
        next.afterSeq = first.nextAfterSeq
        next.knownTotal = first.total
        let rounds = 200
        let pageStart = ContinuousClock.now
        for _ in 0..<rounds { _ = try await store.jobs(matching: next) }
        let perPage = elapsed(since: pageStart) / Double(rounds)
        let countStart = ContinuousClock.now
        for _ in 0..<5 { _ = try await store.jobs(matching: base) }
        let perFirst = elapsed(since: countStart) / 5
        print("list: \(name): a page of \(first.jobs.count) in \(format(perPage * 1e6, 0)) µs; "
              + "the first page with the total (\(first.total)) in \(format(perFirst * 1e3, 2)) ms")
    }
}
