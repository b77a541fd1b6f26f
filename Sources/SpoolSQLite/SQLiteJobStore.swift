import CoreMetrics
import CSQLite
import Dispatch
import SpoolCore
import Synchronization

/// The `JobStore` on SQLite, with group commit: writes that arrive while a
/// commit is in progress wait and then share the next transaction (and its
/// one fsync). Each call is stored whole or not at all, and one failing call
/// does not undo the others: a call of several writes sits in a savepoint of
/// its own, a call of one INSERT needs none (a statement undoes itself).
///
/// Reads that the engine makes while it runs (jobs, batches) go to a second
/// connection on the same file: in WAL mode it reads the last commit while
/// the writer is busy. Payloads have a third, so a job's payload never waits
/// for another group's fsync or another read. Checkpoints (copying the WAL
/// back into the database, and its fsync) run on the second connection too,
/// not inside the writer's commits.
///
/// The writer and the reader are each used only on their own serial
/// Dispatch queue, so their work never runs on Swift's cooperative threads.
/// The payload connection is the exception, used behind a lock on the task
/// that runs the job: one point read by rowid, almost always from SQLite's
/// page cache, costs less than the two thread hops a queue would add to
/// every job (end to end, 20k jobs/s became 30k). That confinement is what
/// makes the class Sendable.
public final class SQLiteJobStore: JobStore, @unchecked Sendable {
    private enum Write {
        case insert([[NewJob]], CheckedContinuation<[Result<[InsertOutcome], any Error>], any Error>)
        case update([JobRecord], CheckedContinuation<Void, any Error>)
    }

    private let database: SQLiteDatabase
    private let statements: Statements
    private let queue = DispatchQueue(label: "spool.sqlite-job-store")
    private let reader: SQLiteDatabase
    private let readStatements: ReadStatements
    private let readQueue = DispatchQueue(label: "spool.sqlite-job-store.reads")
    /// Writes waiting for the next transaction (group commit).
    private let pending = Mailbox<Write>()
    private let commits = Mutex(0)
    /// The payload connection's one statement (which keeps the connection open).
    private let payloadByRowid: Mutex<SQLiteStatement>

    /// The store writes through `database` and opens its read connection
    /// on the same file.
    public init(database: SQLiteDatabase) throws {
        self.database = database
        statements = try Statements(database)
        reader = try SQLiteDatabase(path: database.path)
        readStatements = try ReadStatements(reader)
        payloadByRowid = Mutex(try SQLiteDatabase(path: database.path).prepare("SELECT payload FROM jobs WHERE seq = ?"))
        // The reader checkpoints, so the writer's commits never wait for one.
        try database.takeOverCheckpoints { [weak self] walPages in
            if walPages >= Self.checkpointPages { self?.scheduleCheckpoint() }
        }
    }

    /// The WAL size (4 KiB pages) that asks for a checkpoint: SQLite's own default.
    static let checkpointPages = 1000

    private let checkpointScheduled = Mutex(false)

    /// On the reader's queue: copies the WAL back into the database while
    /// the writer goes on (a passive checkpoint; the WAL restarts once one
    /// has caught up).
    private func scheduleCheckpoint() {
        guard checkpointScheduled.withLock({ scheduled in defer { scheduled = true }; return !scheduled }) else { return }
        readQueue.async { [self] in
            _ = try? reader.checkpoint()
            checkpointScheduled.withLock { $0 = false }
        }
    }

    /// Transactions committed so far (group commit makes this less than the writes).
    public var commitCount: Int { commits.withLock { $0 } }
    /// Each transaction's time, BEGIN to COMMIT (fsync included), through swift-metrics.
    private let commitTimer = Timer(label: "spool_sqlite_commit_seconds")

    // MARK: Writes

    public func insert(calls: [[NewJob]]) async throws -> [Result<[InsertOutcome], any Error>] {
        try await withCheckedThrowingContinuation { enqueue(.insert(calls, $0)) }
    }

    public func update(_ records: [JobRecord]) async throws {
        try await withCheckedThrowingContinuation { enqueue(.update(records, $0)) }
    }

    private func enqueue(_ write: Write) {
        if pending.post(write) { queue.async { self.drain() } }
    }

    /// On `queue`: commits every pending write in one transaction, then answers their callers.
    private func drain() {
        let writes = pending.takeAll()
        guard !writes.isEmpty else { return }
        // Each write's answer: one result per call for inserts.
        var answers: [Result<[Result<[InsertOutcome], any Error>], any Error>] = []
        let started = ContinuousClock.now
        do {
            try statements.begin.run()
            for write in writes {
                switch write {
                case .insert(let calls, _):
                    answers.append(.success(try insert(calls: calls)))
                case .update(let records, _):
                    answers.append(try alone {
                        try inSavepoint { for record in records { try Row.bindChangingValues(of: record, to: statements.update).run() } }
                        return []
                    })
                }
            }
            try statements.commit.run()
            commits.withLock { $0 += 1 }
            let (seconds, attoseconds) = started.duration(to: .now).components
            commitTimer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        } catch {
            try? database.execute("ROLLBACK")
            answers = writes.map { _ in .failure(error) }
        }
        for (write, answer) in zip(writes, answers) {
            switch write {
            case .insert(_, let continuation): continuation.resume(with: answer)
            case .update(_, let continuation): continuation.resume(with: answer.map { _ in })
            }
        }
    }

    /// A write's own result, unless its error ended the transaction (SQLite
    /// rolls back by itself on a full disk or an I/O error): then the whole
    /// commit fails, so that no later write runs outside it, stored while
    /// its caller is told it failed.
    private func alone<T>(_ body: () throws -> T) throws -> Result<T, any Error> {
        let result = Result { try body() }
        if case .failure(let error) = result, !database.isInTransaction { throw error }
        return result
    }

    /// Each call's outcomes, or its own error. One statement undoes itself
    /// if it fails, so a call written by one INSERT needs no savepoint; and
    /// consecutive calls of one plain job each (unary Enqueues) share
    /// multi-row INSERTs. Should one of those fail, its calls are tried
    /// again one by one, each failing alone.
    private func insert(calls: [[NewJob]]) throws -> [Result<[InsertOutcome], any Error>] {
        var results: [Result<[InsertOutcome], any Error>] = []
        results.reserveCapacity(calls.count)
        var index = 0
        while index < calls.count {
            let count = Self.plainRun(in: calls, from: index) { $0.isOnePlainJob }
            guard count > 1 else {
                let jobs = calls[index]
                results.append(try alone { try jobs.isOneInsert ? insert(jobs) : inSavepoint { try insert(jobs) } })
                index += 1
                continue
            }
            let shared = calls[index..<index + count]
            if case .success = try alone({ try insertPlain(shared.lazy.map { $0[0] }) }) {
                results.append(contentsOf: repeatElement(.success([.inserted]), count: count))
            } else {
                for jobs in shared { results.append(try alone { try insert(jobs) }) }
            }
            index += count
        }
        return results
    }

    /// How many items from `start` on are plain rows, up to `Statements.rowsPerInsert`.
    private static func plainRun<Item>(in items: [Item], from start: Int, _ isPlain: (Item) -> Bool) -> Int {
        var count = 0
        while count < Statements.rowsPerInsert, start + count < items.count, isPlain(items[start + count]) { count += 1 }
        return count
    }

    /// Plain jobs (`NewJob.isPlain`), at most `Statements.rowsPerInsert`, in one INSERT.
    private func insertPlain(_ jobs: some Collection<NewJob>) throws {
        let statement = try statements.insertRows(jobs.count)
        for (row, job) in jobs.enumerated() { try Row.bindEnqueueValues(of: job, to: statement, row: Int32(row)) }
        try statement.run()
        for job in jobs where !job.record.labels.isEmpty { try insertLabels(of: job.record) }
    }

    /// A labelled job's rows in job_labels (ListJobs' label search).
    private func insertLabels(of record: JobRecord) throws {
        for (key, value) in record.labels {
            try statements.insertLabel.run([.text(key), .text(value), .integer(record.seq)])
        }
    }

    /// Each write goes in a savepoint, so that its failure undoes all of it
    /// and nothing else.
    private func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        try statements.savepoint.run()
        do {
            let result = try body()
            try statements.release.run()
            return result
        } catch {
            try? statements.rollbackToSavepoint.run()
            try? statements.release.run()
            throw error
        }
    }

    /// A call's jobs, in order. Runs of plain ones (no idempotency key, an
    /// id that carries the seq, nothing past enqueue) go up to
    /// `Statements.rowsPerInsert` to a statement: SQLite's cost per
    /// statement is then shared.
    private func insert(_ jobs: [NewJob]) throws -> [InsertOutcome] {
        var outcomes: [InsertOutcome] = []
        outcomes.reserveCapacity(jobs.count)
        var index = 0
        while index < jobs.count {
            let plain = Self.plainRun(in: jobs, from: index) { $0.isPlain }
            if plain > 1 {
                try insertPlain(jobs[index..<index + plain])
                outcomes.append(contentsOf: repeatElement(.inserted, count: plain))
                index += plain
            } else {
                outcomes.append(try insert(jobs[index]))
                index += 1
            }
        }
        try recordBatchRanges(of: jobs, outcomes)
        if let keyed = jobs.first, let key = keyed.batchKey, let batch = keyed.record.batchId {
            let size = zip(jobs, outcomes).filter { $0.1 == .inserted && $0.0.record.batchId == batch }.count
            try statements.keyBatch.run([.text(key), .integer(Int64(size)), .text(batch)])
        }
        return outcomes
    }

    /// Widens the seq range of each batch among the inserted jobs (one
    /// batch per call, as the engine stores them; any number works).
    private func recordBatchRanges(of jobs: [NewJob], _ outcomes: [InsertOutcome]) throws {
        var range: (batch: String, first: Int64, last: Int64)?
        func flush() throws {
            guard let range else { return }
            let statement = statements.widenBatch
            try statement.bind(range.batch, at: 1)
            try statement.bind(range.first, at: 2)
            try statement.bind(range.last, at: 3)
            try statement.run()
        }
        for (job, outcome) in zip(jobs, outcomes) where outcome == .inserted {
            guard let batch = job.record.batchId else { continue }
            let seq = job.record.seq
            if let current = range, current.batch == batch {
                range = (batch, min(current.first, seq), max(current.last, seq))
            } else {
                try flush()
                range = (batch, seq, seq)
            }
        }
        try flush()
    }

    private func insert(_ job: NewJob) throws -> InsertOutcome {
        let record = job.record
        try Row.bindAllEnqueueValues(of: job, to: statements.insert).run()
        guard database.changes == 0 else {
            if record.jobID.embeddedSeq != record.seq {
                try statements.insertOtherID.run([.text(record.id), .integer(record.seq)])
            }
            if !record.labels.isEmpty { try insertLabels(of: record) }
            // Inserted as enqueued; a record already further along (only
            // tests store those) gets the rest of its fields at once.
            if record.hasLifeFields { try Row.bindChangingValues(of: record, to: statements.update).run() }
            return .inserted
        }
        // Only an idempotency-key conflict is let through without a row (ON CONFLICT … DO NOTHING).
        let lookup = statements.byIdempotencyKey
        try lookup.bind([.text(record.idempotencyKey ?? "")])
        defer { lookup.reset() }
        guard try lookup.step(), let holder = lookup.text(0) else {
            throw SQLiteError(code: SQLITE_INTERNAL, connection: nil,
                              context: "job \(record.id) was neither stored nor a duplicate")
        }
        return .duplicate(of: holder)
    }

    // MARK: Reads

    /// Runs `body` on the writer's queue (start-up reads and pruning).
    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `body` on the read connection's queue.
    private func onReader<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            readQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Read on the caller's task, not on a queue (see the type's comment).
    public func payload(ofJobSeq seq: Int64) async throws -> [UInt8]? {
        try payloadByRowid.withLock { statement in
            try statement.bind(seq, at: 1)
            defer { statement.reset() }
            return try statement.step() ? statement.blob(0) : nil
        }
    }

    public func job(id: String) async throws -> JobRecord? {
        try await onReader { [statements = readStatements] in
            // A job's id carries its seq, unless other_job_ids says otherwise.
            try statements.byID.bind([.text(id), JobID(id).embeddedSeq.map { .integer($0) } ?? .null])
            defer { statements.byID.reset() }
            return try statements.byID.step() ? try Row.record(from: statements.byID) : nil
        }
    }

    public func queueOverrides() async throws -> [String: QueueOverride] {
        try await onQueue { [self] in
            let select = try database.prepare("SELECT queue, paused, concurrency, rate_set, per_second, burst FROM queue_overrides")
            var overrides: [String: QueueOverride] = [:]
            while try select.step() {
                guard let queue = select.text(0) else { continue }
                overrides[queue] = QueueOverride(
                    storedPaused: select.optionalInteger(1).map { $0 == 1 }, concurrency: select.optionalInteger(2),
                    rateSet: select.integer(3) != 0, perSecond: select.optionalReal(4), burst: select.optionalReal(5))
            }
            return overrides
        }
    }

    public func save(_ override: QueueOverride, forQueue queue: String) async throws {
        try await onQueue { [self] in
            if override.isEmpty {
                try database.prepare("DELETE FROM queue_overrides WHERE queue = ?").run([.text(queue)])
                return
            }
            let rate = override.rateLimit.flatMap { $0 }
            try database.prepare("INSERT OR REPLACE INTO queue_overrides VALUES (?, ?, ?, ?, ?, ?)").run([
                .text(queue), override.paused == true ? .integer(1) : .null,
                override.concurrency.map { .integer(Int64($0)) } ?? .null,
                .integer(override.rateLimit == nil ? 0 : 1),
                rate.map { .real($0.ratePerSecond) } ?? .null, rate.map { .real($0.burst) } ?? .null,
            ])
        }
    }

    public func jobs(matching query: JobQuery) async throws -> JobPage {
        try await onReader { [self] in try JobListing(database: reader).page(query) }
    }

    public func jobs(inBatch id: String) async throws -> [JobRecord] {
        try await onReader { [statements = readStatements] in
            try statements.byBatch.bind([.text(id)])
            defer { statements.byBatch.reset() }
            var records: [JobRecord] = []
            while try statements.byBatch.step() { records.append(try Row.record(from: statements.byBatch)) }
            return records
        }
    }

    public func scheduleRecords() async throws -> [String: ScheduleRecord] {
        try await onQueue { [self] in
            let select = try database.prepare("SELECT name, last_fire_ms, last_job_id FROM schedules")
            var records: [String: ScheduleRecord] = [:]
            while try select.step() {
                guard let name = select.text(0) else { continue }
                // A time out of range (a row edited by hand) is held to the range jobs' times keep.
                let lastFireMs = min(max(0, select.integer(1)), JobLimits.maxRunAtMs)
                records[name] = ScheduleRecord(lastFireMs: lastFireMs, lastJobID: select.isNull(2) ? nil : select.text(2))
            }
            return records
        }
    }

    public func save(_ record: ScheduleRecord, forSchedule name: String) async throws {
        try await onQueue { [self] in
            try database.prepare("INSERT OR REPLACE INTO schedules VALUES (?, ?, ?)").run([
                .text(name), .integer(record.lastFireMs), record.lastJobID.map { .text($0) } ?? .null,
            ])
        }
    }

    public func batch(idempotencyKey: String) async throws -> KeyedBatch? {
        try await onReader { [statements = readStatements] in
            try statements.batchByKey.bind([.text(idempotencyKey)])
            defer { statements.batchByKey.reset() }
            guard try statements.batchByKey.step(), let id = statements.batchByKey.text(0) else { return nil }
            return KeyedBatch(id: id, size: Int(clamping: statements.batchByKey.integer(1)))
        }
    }

    public func stateCounts(ofBatch id: String) async throws -> StateCounts {
        try await onReader { [statements = readStatements] in
            try statements.batchCounts.bind([.text(id)])
            defer { statements.batchCounts.reset() }
            var counts = StateCounts()
            while try statements.batchCounts.step() {
                guard let state = JobState(rawValue: Int32(statements.batchCounts.integer(0))) else { continue }
                counts[state] = Int(statements.batchCounts.integer(1))
            }
            return counts
        }
    }

    public func stateCountsOfUnfinishedBatches() async throws -> [String: StateCounts] {
        try await onQueue { [statements] in
            defer { statements.unfinishedBatchCounts.reset() }
            var counts: [String: StateCounts] = [:]
            while try statements.unfinishedBatchCounts.step() {
                guard let batch = statements.unfinishedBatchCounts.text(0),
                      let state = JobState(rawValue: Int32(statements.unfinishedBatchCounts.integer(1))) else { continue }
                counts[batch, default: StateCounts()][state] = Int(statements.unfinishedBatchCounts.integer(2))
            }
            return counts
        }
    }

    public func unfinishedJobCount() async throws -> Int {
        try await onQueue { [statements] in
            defer { statements.unfinishedCount.reset() }
            return try statements.unfinishedCount.step() ? Int(statements.unfinishedCount.integer(0)) : 0
        }
    }

    public func unfinishedJobs(chunkSize: Int) -> AsyncThrowingStream<[JobRecord], any Error> {
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: [JobRecord].self)
        queue.async { [statements] in
            defer { statements.unfinished.reset() }
            do {
                var chunk: [JobRecord] = []
                var strings = SharedStrings()
                while try statements.unfinished.step() {
                    chunk.append(try Row.record(from: statements.unfinished, sharing: &strings))
                    if chunk.count == chunkSize {
                        continuation.yield(chunk)
                        chunk = []
                    }
                }
                if !chunk.isEmpty { continuation.yield(chunk) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return chunks
    }

    public func lastSeq() async throws -> Int64 {
        try await onQueue { [statements] in
            defer { statements.lastSeq.reset() }
            return try statements.lastSeq.step() ? statements.lastSeq.integer(0) : 0
        }
    }

    public func pruneFinished(beforeMs: Int64, limit: Int) async throws -> Int {
        try await onQueue { [self] in
            try statements.prune.run([.integer(beforeMs), .integer(Int64(limit))])
            let pruned = database.changes
            try statements.pruneBatches.run()
            return pruned
        }
    }
}

/// The writer's statements (writes, and the start-up reads made on the
/// writer's queue), prepared once at open and used only on that queue.
private final class Statements: @unchecked Sendable {
    /// The most rows of plain jobs one INSERT takes.
    static let rowsPerInsert = 16

    let begin, commit, savepoint, release, rollbackToSavepoint, insert, insertOtherID, insertLabel, widenBatch, keyBatch, update,
        byIdempotencyKey, unfinishedBatchCounts, unfinishedCount, unfinished, lastSeq, prune, pruneBatches: SQLiteStatement
    private static let insertInto = "INSERT INTO jobs (\(Row.enqueueColumns.joined(separator: ", "))) VALUES"
    private static let rowValues = "(" + Array(repeating: "?", count: Row.enqueueColumns.count).joined(separator: ", ") + ")"
    /// One job with every enqueue column, its optional ones too.
    private static let insertAll = """
        INSERT INTO jobs (\((Row.enqueueColumns + Row.optionalEnqueueColumns).joined(separator: ", "))) \
        VALUES (\(Array(repeating: "?", count: Row.enqueueColumns.count + Row.optionalEnqueueColumns.count).joined(separator: ", ")))
        """
    private let database: SQLiteDatabase
    /// INSERTs of 2 to `rowsPerInsert` plain rows, by their count, each prepared on first use.
    private var rowInserts: [SQLiteStatement?] = Array(repeating: nil, count: Statements.rowsPerInsert + 1)

    /// One INSERT of `count` plain rows (`Row.enqueueColumns`, no conflict clause).
    func insertRows(_ count: Int) throws(SQLiteError) -> SQLiteStatement {
        if let statement = rowInserts[count] { return statement }
        let statement = try database.prepare(
            "\(Self.insertInto) \(Array(repeating: Self.rowValues, count: count).joined(separator: ", "))")
        rowInserts[count] = statement
        return statement
    }

    init(_ database: SQLiteDatabase) throws {
        self.database = database
        begin = try database.prepare("BEGIN IMMEDIATE")
        commit = try database.prepare("COMMIT")
        savepoint = try database.prepare("SAVEPOINT write")
        release = try database.prepare("RELEASE write")
        rollbackToSavepoint = try database.prepare("ROLLBACK TO write")
        insert = try database.prepare("""
            \(Self.insertAll) ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            """)
        insertOtherID = try database.prepare("INSERT INTO other_job_ids (id, seq) VALUES (?, ?)")
        insertLabel = try database.prepare(Schema.insertLabel)
        widenBatch = try database.prepare("""
            INSERT INTO batches (id, first_seq, last_seq) VALUES (?, ?, ?) ON CONFLICT (id)
            DO UPDATE SET first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq)
            """)
        keyBatch = try database.prepare("UPDATE batches SET idempotency_key = ?, size = ? WHERE id = ?")
        update = try database.prepare("""
            UPDATE jobs SET \(Row.changingColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE seq = ?
            """)
        byIdempotencyKey = try database.prepare("SELECT id FROM jobs WHERE idempotency_key = ?")
        // SCHEDULED, QUEUED, RUNNING and BLOCKED: ranges of jobs_state.
        let isUnfinished = "(state BETWEEN 1 AND 3 OR state = 7)"
        unfinishedBatchCounts = try database.prepare("""
            SELECT batches.id, jobs.state, count(*) FROM batches
            JOIN jobs ON jobs.seq BETWEEN batches.first_seq AND batches.last_seq AND jobs.batch_id = batches.id
            WHERE batches.id IN (SELECT DISTINCT batch_id FROM jobs WHERE \(isUnfinished) AND batch_id IS NOT NULL)
            GROUP BY batches.id, jobs.state
            """)
        unfinishedCount = try database.prepare("SELECT count(*) FROM jobs WHERE \(isUnfinished)")
        unfinished = try database.prepare(
            // No ORDER BY: sorting a million rows would cost more than the
            // engine's own ordering of what it loads.
            "SELECT \(Row.columns.joined(separator: ", ")) FROM jobs WHERE \(isUnfinished)")
        lastSeq = try database.prepare("SELECT coalesce(max(seq), 0) FROM jobs")
        prune = try database.prepare("""
            DELETE FROM jobs WHERE seq IN (
                SELECT seq FROM jobs WHERE finished_at_ms IS NOT NULL AND finished_at_ms < ? AND state BETWEEN 4 AND 6
                ORDER BY finished_at_ms LIMIT ?)
            """)
        // The batches whose every job is gone: those older than the oldest
        // job left. (A batch pruned while an older job stays keeps its row
        // until that job goes; a lookup then finds no jobs in its range.)
        pruneBatches = try database.prepare(
            "DELETE FROM batches WHERE last_seq < (SELECT coalesce(min(seq), 9223372036854775807) FROM jobs)")
    }
}

/// The reader's statements: what the engine reads while it runs. Used only
/// on the reader's queue.
private final class ReadStatements: @unchecked Sendable {
    let byID, byBatch, batchCounts, batchByKey: SQLiteStatement

    init(_ database: SQLiteDatabase) throws {
        byID = try database.prepare("""
            SELECT \(Row.columns.joined(separator: ", ")) FROM jobs
            WHERE seq = coalesce((SELECT seq FROM other_job_ids WHERE id = ?1), ?2) AND id = ?1
            """)
        // A batch's jobs lie in its range of seqs (batches).
        let inBatch = """
            seq BETWEEN (SELECT first_seq FROM batches WHERE id = ?1) AND (SELECT last_seq FROM batches WHERE id = ?1)
            AND batch_id = ?1
            """
        byBatch = try database.prepare("SELECT \(Row.columns.joined(separator: ", ")) FROM jobs WHERE \(inBatch) ORDER BY seq")
        batchCounts = try database.prepare("SELECT state, count(*) FROM jobs WHERE \(inBatch) GROUP BY state")
        batchByKey = try database.prepare("SELECT id, coalesce(size, 0) FROM batches WHERE idempotency_key = ?")
    }
}

/// How a `JobRecord` maps to a row of `jobs`: the one place that knows.
enum Row {
    static let columns = [
        "id", "seq", "queue", "type", "priority", "state", "idempotency_key", "lock_keys", "rate_key",
        "max_attempts", "attempt", "timeout_ms", "run_at_ms", "batch_id", "labels", "progress", "progress_step",
        "progress_message", "result", "error_code", "error_message", "error_retryable", "created_at_ms",
        "started_at_ms", "finished_at_ms", "updated_at_ms", "expire_at_ms", "depends_on", "depends_on_batches",
        "run_if_dependencies_fail", "dependency_summary", "rate_cost",
    ]

    /// What an enqueue sets; the rest starts at its default.
    static let enqueueColumns = [
        "seq", "id", "queue", "type", "payload", "priority", "state", "idempotency_key", "lock_keys", "rate_key",
        "max_attempts", "attempt", "timeout_ms", "run_at_ms", "batch_id", "labels", "created_at_ms", "updated_at_ms",
    ]

    /// What an enqueue sets only for some jobs: a plain row (`isPlain`) has
    /// none of it and leaves these NULL, binding nothing for them.
    static let optionalEnqueueColumns = [
        "expire_at_ms", "depends_on", "depends_on_batches", "run_if_dependencies_fail", "rate_cost",
    ]

    /// What a job's life changes; the rest is fixed at enqueue.
    static let changingColumns = [
        "state", "attempt", "run_at_ms", "progress", "progress_step", "progress_message", "result",
        "error_code", "error_message", "error_retryable", "started_at_ms", "finished_at_ms", "updated_at_ms",
        "expire_at_ms", "dependency_summary",
    ]

    /// Binds `enqueueColumns`, in that order, as the `row`th row of the statement's VALUES.
    @discardableResult
    static func bindEnqueueValues(of job: NewJob, to statement: SQLiteStatement, row: Int32 = 0) throws(SQLiteError)
        -> SQLiteStatement {
        let r = job.record
        let first = row * Int32(enqueueColumns.count)
        try statement.bind(r.seq, at: first + 1)
        try statement.bind(r.id, at: first + 2)
        try statement.bind(r.queue, at: first + 3)
        try statement.bind(r.type, at: first + 4)
        try statement.bind(bytes: job.payload, at: first + 5)
        try statement.bind(Int64(r.priority), at: first + 6)
        try statement.bind(Int64(r.state.rawValue), at: first + 7)
        try statement.bind(r.idempotencyKey, at: first + 8)
        try statement.bind(bytes: StringListCoding.encode(r.lockKeys), at: first + 9)
        try statement.bind(r.rateKey, at: first + 10)
        try statement.bind(Int64(r.maxAttempts), at: first + 11)
        try statement.bind(Int64(r.attempt), at: first + 12)
        try statement.bind(r.timeoutMs, at: first + 13)
        try statement.bind(r.runAtMs, at: first + 14)
        try statement.bind(r.batchId, at: first + 15)
        try statement.bind(bytes: StringListCoding.encode(r.labels), at: first + 16)
        try statement.bind(r.createdAtMs, at: first + 17)
        try statement.bind(r.updatedAtMs, at: first + 18)
        return statement
    }

    /// Binds `enqueueColumns`, then `optionalEnqueueColumns`: one job's VALUES.
    @discardableResult
    static func bindAllEnqueueValues(of job: NewJob, to statement: SQLiteStatement) throws(SQLiteError) -> SQLiteStatement {
        try bindEnqueueValues(of: job, to: statement)
        let r = job.record
        let first = Int32(enqueueColumns.count)
        try statement.bind(optional: r.expireAtMs, at: first + 1)
        let dependencies = r.dependencies
        try statement.bind(bytes: dependencies.map { StringListCoding.encode($0.jobs) }, at: first + 2)
        try statement.bind(bytes: dependencies.map { StringListCoding.encode($0.batches) }, at: first + 3)
        try statement.bind(optional: dependencies.map { $0.runIfFailed ? 1 : 0 }, at: first + 4)
        try statement.bind(optional: r.rateCost == 1 ? nil : Int64(r.rateCost), at: first + 5)
        return statement
    }

    /// Binds `changingColumns` and then the seq of the row to change.
    static func bindChangingValues(of r: JobRecord, to statement: SQLiteStatement) throws(SQLiteError) -> SQLiteStatement {
        try statement.bind(Int64(r.state.rawValue), at: 1)
        try statement.bind(Int64(r.attempt), at: 2)
        try statement.bind(r.runAtMs, at: 3)
        let progress = r.progress
        try statement.bind(progress.fraction, at: 4)
        try statement.bind(progress.step, at: 5)
        try statement.bind(progress.message, at: 6)
        try statement.bind(bytes: r.result, at: 7)
        let failure = r.failure
        try statement.bind(failure?.code, at: 8)
        try statement.bind(failure?.message, at: 9)
        try statement.bind(optional: failure.map { $0.retryable ? 1 : 0 }, at: 10)
        try statement.bind(optional: r.startedAtMs, at: 11)
        try statement.bind(optional: r.finishedAtMs, at: 12)
        try statement.bind(r.updatedAtMs, at: 13)
        try statement.bind(optional: r.expireAtMs, at: 14)
        try statement.bind(r.dependencySummary, at: 15)
        try statement.bind(r.seq, at: 16)
        return statement
    }

    /// Reads a row selected with `columns`, in that order.
    static func record(from row: SQLiteStatement) throws -> JobRecord {
        var strings = SharedStrings()
        return try record(from: row, sharing: &strings)
    }

    /// Reads a row, taking its queue, type and batch id from `strings` when
    /// they repeat the last row's: a million jobs loaded at start-up then
    /// share a few strings instead of holding one copy each.
    static func record(from row: SQLiteStatement, sharing strings: inout SharedStrings) throws -> JobRecord {
        func text(_ column: Int32) -> String? { row.isNull(column) ? nil : row.text(column) }
        func integer(_ column: Int32) -> Int64? { row.isNull(column) ? nil : row.integer(column) }
        let id = row.text(0) ?? ""
        guard let state = JobState(rawValue: Int32(clamping: row.integer(5))) else {
            throw SQLiteError(code: SQLITE_CORRUPT, connection: nil, context: "job \(id) has a malformed row")
        }
        // Whatever else is out of place is read as best it can be, and named
        // in `corruption`: the engine fails such a job instead of trapping.
        var problems: [String] = []
        func int32(_ column: Int32, _ name: String) -> Int32 {
            let value = row.integer(column)
            if let exact = Int32(exactly: value) { return exact }
            problems.append("\(name) \(value) is out of range")
            return 0
        }
        let lockKeys = StringListCoding.decode(row.blob(7) ?? [])
        let labels = StringListCoding.decodeMap(row.blob(14) ?? [])
        if lockKeys == nil { problems.append("lock_keys is malformed") }
        if labels == nil { problems.append("labels is malformed") }
        var record = JobRecord(
            id: JobID(id), seq: row.integer(1), queue: strings.share(row.text(2) ?? "", as: \.queue),
            type: strings.share(row.text(3) ?? "", as: \.type), priority: int32(4, "priority"), state: state,
            idempotencyKey: text(6), lockKeys: lockKeys ?? [], rateKey: text(8), maxAttempts: int32(9, "max_attempts"),
            timeoutMs: row.integer(11), runAtMs: row.integer(12), batchId: text(13).map { strings.share($0, as: \.batch) },
            labels: labels ?? [:], createdAtMs: row.integer(22))
        record.attempt = int32(10, "attempt")
        if !problems.isEmpty { record.corruption = problems.joined(separator: "; ") }
        record.updatedAtMs = row.integer(25)
        // The rest only when set, so that a waiting job's record stays small.
        let progress = JobRecord.Progress(fraction: row.real(15), step: row.text(16) ?? "", message: row.text(17) ?? "")
        if progress != JobRecord.Progress() { record.progress = progress }
        if let result = row.blob(18) { record.result = result }
        if let code = text(19) {
            record.failure = JobRecord.Failure(code: code, message: text(20) ?? "", retryable: row.integer(21) != 0)
        }
        if let startedAtMs = integer(23) { record.startedAtMs = startedAtMs }
        if let finishedAtMs = integer(24) { record.finishedAtMs = finishedAtMs }
        if let expireAtMs = integer(26) { record.expireAtMs = expireAtMs }
        if !row.isNull(27) || !row.isNull(28) {
            let jobs = StringListCoding.decode(row.blob(27) ?? [])
            let batches = StringListCoding.decode(row.blob(28) ?? [])
            if jobs == nil || batches == nil {
                record.corruption = [record.corruption, "depends_on is malformed"].compactMap { $0 }.joined(separator: "; ")
            }
            record.dependencies = .init(jobs: jobs ?? [], batches: batches ?? [], runIfFailed: integer(29).map { $0 != 0 } ?? false)
        }
        if let summary = text(30) { record.dependencySummary = summary }
        if let cost = integer(31) {
            if let exact = Int32(exactly: cost), exact >= 1 {
                record.rateCost = exact
            } else {
                record.corruption = [record.corruption, "rate_cost \(cost) is out of range"].compactMap { $0 }.joined(separator: "; ")
            }
        }
        return record
    }
}

private extension NewJob {
    /// Its INSERT is all it takes: an id that carries its seq (no row in
    /// other_job_ids), nothing past enqueue (no UPDATE).
    var needsOnlyItsInsert: Bool {
        record.jobID.embeddedSeq == record.seq && !record.hasLifeFields
    }

    /// One row of a multi-row INSERT: no idempotency key to check either,
    /// and none of the optional columns (`Row.optionalEnqueueColumns`).
    var isPlain: Bool {
        needsOnlyItsInsert && record.idempotencyKey == nil && record.expireAtMs == nil && record.dependencies == nil
            && record.rateCost == 1
    }
}

private extension [NewJob] {
    /// A call written by one INSERT: one job needing nothing else, in no
    /// batch (a batch's range is a second write).
    var isOneInsert: Bool { count == 1 && self[0].needsOnlyItsInsert && self[0].record.batchId == nil }

    /// A call that is one row of a multi-row INSERT.
    var isOnePlainJob: Bool { isOneInsert && self[0].isPlain }
}

private extension JobRecord {
    /// Whether anything an enqueue leaves unset is set: progress, result,
    /// failure, start or finish.
    var hasLifeFields: Bool {
        progress != Progress() || result != nil || failure != nil || startedAtMs != nil || finishedAtMs != nil
    }
}

/// The last queue, type and batch id read, handed out again when the next
/// row repeats them.
struct SharedStrings {
    var queue = ""
    var type = ""
    var batch = ""

    mutating func share(_ text: String, as field: WritableKeyPath<SharedStrings, String>) -> String {
        if self[keyPath: field] == text { return self[keyPath: field] }
        self[keyPath: field] = text
        return text
    }
}
