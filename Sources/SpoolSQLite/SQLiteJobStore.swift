import CSQLite
import Dispatch
import SpoolCore
import Synchronization

/// The `JobStore` on SQLite, with group commit: writes that arrive while a
/// commit is in progress wait and then share the next transaction (and its
/// one fsync). Each caller's writes sit in a savepoint of their own, so one
/// failing call does not undo the others.
///
/// Reads that the engine makes while it runs (payloads, jobs, batches) go to
/// a second connection on the same file: in WAL mode it reads the last
/// commit while the writer is busy, so a job's payload never waits for
/// another group's fsync.
///
/// Each connection is used only on its own serial Dispatch queue, so blocking
/// I/O never runs on Swift's cooperative threads; that confinement is what
/// makes the class Sendable.
public final class SQLiteJobStore: JobStore, @unchecked Sendable {
    private enum Write {
        case insert([NewJob], CheckedContinuation<[InsertOutcome], any Error>)
        case update([JobRecord], CheckedContinuation<Void, any Error>)
    }

    private struct Pending {
        var writes: [Write] = []
        var drainScheduled = false
        var commits = 0
    }

    private let database: SQLiteDatabase
    private let statements: Statements
    private let queue = DispatchQueue(label: "spool.sqlite-job-store")
    private let reader: SQLiteDatabase
    private let readStatements: Statements
    private let readQueue = DispatchQueue(label: "spool.sqlite-job-store.reads")
    private let pending = Mutex(Pending())

    /// The store writes through `database` and opens its read connection
    /// on the same file.
    public init(database: SQLiteDatabase) throws {
        self.database = database
        statements = try Statements(database)
        reader = try SQLiteDatabase(path: database.path)
        readStatements = try Statements(reader)
    }

    /// Transactions committed so far (group commit makes this less than the writes).
    public var commitCount: Int { pending.withLock { $0.commits } }

    // MARK: Writes

    public func insert(_ jobs: [NewJob]) async throws -> [InsertOutcome] {
        try await withCheckedThrowingContinuation { enqueue(.insert(jobs, $0)) }
    }

    public func update(_ records: [JobRecord]) async throws {
        try await withCheckedThrowingContinuation { enqueue(.update(records, $0)) }
    }

    private func enqueue(_ write: Write) {
        let schedule = pending.withLock { pending -> Bool in
            pending.writes.append(write)
            defer { pending.drainScheduled = true }
            return !pending.drainScheduled
        }
        if schedule { queue.async { self.drain() } }
    }

    /// On `queue`: commits every pending write in one transaction, then answers their callers.
    private func drain() {
        let writes = pending.withLock { pending -> [Write] in
            pending.drainScheduled = false
            defer { pending.writes = [] }
            return pending.writes
        }
        guard !writes.isEmpty else { return }
        var results: [Result<[InsertOutcome], any Error>] = []
        do {
            try database.execute("BEGIN IMMEDIATE")
            for write in writes {
                results.append(Result { try inSavepoint { try apply(write) } })
            }
            try database.execute("COMMIT")
            pending.withLock { $0.commits += 1 }
        } catch {
            try? database.execute("ROLLBACK")
            results = writes.map { _ in .failure(error) }
        }
        for (write, result) in zip(writes, results) {
            switch write {
            case .insert(_, let continuation): continuation.resume(with: result)
            case .update(_, let continuation): continuation.resume(with: result.map { _ in })
            }
        }
    }

    private func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        try database.execute("SAVEPOINT write")
        do {
            let result = try body()
            try database.execute("RELEASE write")
            return result
        } catch {
            try? database.execute("ROLLBACK TO write")
            try? database.execute("RELEASE write")
            throw error
        }
    }

    private func apply(_ write: Write) throws -> [InsertOutcome] {
        switch write {
        case .insert(let jobs, _):
            return try jobs.map { job in
                try statements.insert.run(Row.values(for: job))
                guard database.changes == 0 else { return .inserted }
                // Only an idempotency-key conflict is let through without a row (ON CONFLICT … DO NOTHING).
                let lookup = statements.byIdempotencyKey
                try lookup.bind([.text(job.record.idempotencyKey ?? "")])
                defer { lookup.reset() }
                guard try lookup.step(), let holder = lookup.text(0) else {
                    throw SQLiteError(code: SQLITE_INTERNAL, connection: nil,
                                      context: "job \(job.record.id) was neither stored nor a duplicate")
                }
                return .duplicate(of: holder)
            }
        case .update(let records, _):
            for record in records { try statements.update.run(Row.changingValues(of: record)) }
            return []
        }
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

    public func payload(ofJob id: String) async throws -> [UInt8]? {
        try await onReader { [statements = readStatements] in
            try statements.payload.bind([.text(id)])
            defer { statements.payload.reset() }
            return try statements.payload.step() ? statements.payload.blob(0) : nil
        }
    }

    public func job(id: String) async throws -> JobRecord? {
        try await onReader { [statements = readStatements] in
            try statements.byID.bind([.text(id)])
            defer { statements.byID.reset() }
            return try statements.byID.step() ? try Row.record(from: statements.byID) : nil
        }
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
            return database.changes
        }
    }
}

/// The store's statements, prepared once at open and used only on the store's queue.
private final class Statements: @unchecked Sendable {
    let insert, update, byIdempotencyKey, payload, byID, byBatch, batchCounts, unfinishedBatchCounts, unfinishedCount,
        unfinished, lastSeq, prune: SQLiteStatement

    init(_ database: SQLiteDatabase) throws {
        insert = try database.prepare("""
            INSERT INTO jobs (\(Row.columns.joined(separator: ", ")), payload)
            VALUES (\(Array(repeating: "?", count: Row.columns.count + 1).joined(separator: ", ")))
            ON CONFLICT (idempotency_key) DO NOTHING
            """)
        update = try database.prepare("""
            UPDATE jobs SET \(Row.changingColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?
            """)
        byIdempotencyKey = try database.prepare("SELECT id FROM jobs WHERE idempotency_key = ?")
        payload = try database.prepare("SELECT payload FROM jobs WHERE id = ?")
        byID = try database.prepare("SELECT \(Row.columns.joined(separator: ", ")) FROM jobs WHERE id = ?")
        byBatch = try database.prepare(
            "SELECT \(Row.columns.joined(separator: ", ")) FROM jobs WHERE batch_id = ? ORDER BY seq")
        batchCounts = try database.prepare("SELECT state, count(*) FROM jobs WHERE batch_id = ? GROUP BY state")
        unfinishedBatchCounts = try database.prepare("""
            SELECT batch_id, state, count(*) FROM jobs
            WHERE batch_id IN (SELECT DISTINCT batch_id FROM jobs WHERE state IN (1, 2, 3) AND batch_id IS NOT NULL)
            GROUP BY batch_id, state
            """)
        unfinishedCount = try database.prepare("SELECT count(*) FROM jobs WHERE state IN (1, 2, 3)")
        unfinished = try database.prepare(
            // No ORDER BY: sorting a million rows would cost more than the
            // engine's own ordering of what it loads.
            "SELECT \(Row.columns.joined(separator: ", ")) FROM jobs WHERE state IN (1, 2, 3)")
        lastSeq = try database.prepare("SELECT coalesce(max(seq), 0) FROM jobs")
        prune = try database.prepare("""
            DELETE FROM jobs WHERE id IN (
                SELECT id FROM jobs WHERE finished_at_ms IS NOT NULL AND finished_at_ms < ? AND state IN (4, 5, 6)
                ORDER BY finished_at_ms LIMIT ?)
            """)
    }
}

/// How a `JobRecord` maps to a row of `jobs`: the one place that knows.
private enum Row {
    static let columns = [
        "id", "seq", "queue", "type", "priority", "state", "idempotency_key", "lock_keys", "rate_key",
        "max_attempts", "attempt", "timeout_ms", "run_at_ms", "batch_id", "labels", "progress", "progress_step",
        "progress_message", "result", "error_code", "error_message", "error_retryable", "created_at_ms",
        "started_at_ms", "finished_at_ms", "updated_at_ms",
    ]

    /// What a job's life changes; the rest is fixed at enqueue.
    static let changingColumns = [
        "state", "attempt", "run_at_ms", "progress", "progress_step", "progress_message", "result",
        "error_code", "error_message", "error_retryable", "started_at_ms", "finished_at_ms", "updated_at_ms",
    ]

    static func values(for job: NewJob) -> [SQLiteStatement.Value] {
        let r = job.record
        return [
            .text(r.id), .integer(r.seq), .text(r.queue), .text(r.type), .integer(Int64(r.priority)),
            .integer(Int64(r.state.rawValue)), optional(r.idempotencyKey), .blob(StringListCoding.encode(r.lockKeys)),
            optional(r.rateKey), .integer(Int64(r.maxAttempts)), .integer(Int64(r.attempt)), .integer(r.timeoutMs),
            .integer(r.runAtMs), optional(r.batchId), .blob(StringListCoding.encode(r.labels)),
        ] + progressAndOutcome(of: r) + [
            .integer(r.createdAtMs), optional(r.startedAtMs), optional(r.finishedAtMs), .integer(r.updatedAtMs),
            .blob(job.payload),
        ]
    }

    static func changingValues(of r: JobRecord) -> [SQLiteStatement.Value] {
        [.integer(Int64(r.state.rawValue)), .integer(Int64(r.attempt)), .integer(r.runAtMs)]
            + progressAndOutcome(of: r)
            + [optional(r.startedAtMs), optional(r.finishedAtMs), .integer(r.updatedAtMs), .text(r.id)]
    }

    private static func progressAndOutcome(of r: JobRecord) -> [SQLiteStatement.Value] {
        [
            .real(r.progress.fraction), .text(r.progress.step), .text(r.progress.message),
            r.result.map { .blob($0) } ?? .null,
            optional(r.failure?.code), optional(r.failure?.message), optional(r.failure.map { Int64($0.retryable ? 1 : 0) }),
        ]
    }

    private static func optional(_ text: String?) -> SQLiteStatement.Value { text.map { .text($0) } ?? .null }
    private static func optional(_ number: Int64?) -> SQLiteStatement.Value { number.map { .integer($0) } ?? .null }

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
        guard let state = JobState(rawValue: Int32(row.integer(5))),
              let lockKeys = StringListCoding.decode(row.blob(7) ?? []),
              let labels = StringListCoding.decodeMap(row.blob(14) ?? []) else {
            throw SQLiteError(code: SQLITE_CORRUPT, connection: nil, context: "job \(id) has a malformed row")
        }
        var record = JobRecord(
            id: id, seq: row.integer(1), queue: strings.share(row.text(2) ?? "", as: \.queue),
            type: strings.share(row.text(3) ?? "", as: \.type), priority: Int32(row.integer(4)), state: state,
            idempotencyKey: text(6), lockKeys: lockKeys, rateKey: text(8), maxAttempts: Int32(row.integer(9)),
            timeoutMs: row.integer(11), runAtMs: row.integer(12), batchId: text(13).map { strings.share($0, as: \.batch) },
            labels: labels, createdAtMs: row.integer(22))
        record.attempt = Int32(row.integer(10))
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
        return record
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
