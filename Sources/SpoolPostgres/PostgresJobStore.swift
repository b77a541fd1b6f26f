import CoreMetrics
import Logging
import NIOCore
import PostgresNIO
import SpoolCore
import Synchronization

/// The `JobStore` on PostgreSQL, with the SQLite store's semantics: group
/// commit (writes arriving while a transaction runs share the next one),
/// each call stored whole or not at all, idempotency by a unique index.
///
/// A group is written optimistically in a few statements whatever its
/// size: every job of every call in one INSERT … SELECT FROM unnest(…),
/// every update in one UPDATE … FROM unnest(…). Should one of them fail (a call whose batch
/// key is taken, say), the group is written again with each call in a
/// savepoint of its own, so that the failing call fails alone.
///
/// With a fence (`fence(token:)`, set by the leader lease) every write
/// transaction first reads the lease row FOR SHARE and finds its token
/// still there, else it fails with `PostgresStoreError.fenced` and writes
/// nothing. The share lock makes a new leader's takeover wait for a write
/// in flight, so the new leader's recovery sees all of it.
public final class PostgresJobStore: JobStore, Sendable {
    private enum Write: Sendable {
        case insert([[NewJob]], CheckedContinuation<[Result<[InsertOutcome], any Error>], any Error>)
        case update([JobRecord], CheckedContinuation<Void, any Error>)
    }

    public let location: PostgresLocation
    let client: PostgresClient
    private let clientTask: Task<Void, Never>
    private let writerTask = Mutex<Task<Void, Never>?>(nil)
    private let wakeups: AsyncStream<Void>.Continuation
    private let pending = Mailbox<Write>()
    private let fenceToken = Mutex<Int64?>(nil)
    /// Payloads of jobs just stored, for their dispatch (64 MiB at most).
    let payloads = PayloadCache(budget: 64 << 20)
    private let commits = Mutex(0)
    static let logger = Logger(label: "spool.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    private let commitTimer = Timer(label: "spool_postgres_commit_seconds")

    /// Rows per statement (a parameter a column, whatever the rows): a
    /// bound on one message's size.
    static let rowsPerStatement = 10_000
    /// Payload bytes per statement: many 4 MiB calls in one group would
    /// otherwise make one message of gigabytes, past PostgreSQL's 1 GiB and
    /// the 32-bit lengths of its protocol.
    static let payloadBytesPerStatement = 64 << 20

    /// `jobs` in statements of at most `rowsPerStatement` rows and
    /// `payloadBytesPerStatement` payload bytes (a larger job alone).
    static func statements(of jobs: [NewJob]) -> [ArraySlice<NewJob>] {
        var chunks: [ArraySlice<NewJob>] = []
        var start = 0, bytes = 0
        for (index, job) in jobs.enumerated() {
            if index > start && (index - start == rowsPerStatement || bytes + job.payload.count > payloadBytesPerStatement) {
                chunks.append(jobs[start..<index])
                (start, bytes) = (index, 0)
            }
            bytes += job.payload.count
        }
        if start < jobs.count { chunks.append(jobs[start...]) }
        return chunks
    }

    /// Connects (at most `connections` at once), creates or migrates the
    /// schema, and answers once the database has answered. A session left
    /// idle inside a transaction for `idleTransactionTimeout` (its process
    /// paused) is ended by the server, releasing its locks: a cluster sets
    /// it below the lease, so that a paused leader cannot hold up the next.
    public static func open(_ location: PostgresLocation, connections: Int = 8,
                            idleTransactionTimeout: Duration = .seconds(5)) async throws -> PostgresJobStore {
        // One connection first: its error names the problem (no server, a
        // wrong password, no such database), where the pool's would not.
        do {
            let probe = try await PostgresConnection.connect(configuration: try location.connectionConfiguration(), id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw PostgresStoreError.from(error)
        }
        let store = PostgresJobStore(location: location, connections: connections, idleTransactionTimeout: idleTransactionTimeout)
        do {
            try await store.migrate()
        } catch {
            store.close()
            throw PostgresStoreError.from(error)
        }
        return store
    }

    private init(location: PostgresLocation, connections: Int, idleTransactionTimeout: Duration) {
        self.location = location
        let client = PostgresClient(
            configuration: location.clientConfiguration(connections: connections, idleTransactionTimeout: idleTransactionTimeout),
            backgroundLogger: Self.logger)
        self.client = client
        clientTask = Task { await client.run() }
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        wakeups = continuation
        let pending = self.pending
        // The writer: one group at a time, in order.
        writerTask.withLock { $0 = Task { [weak self] in
            for await _ in stream {
                let writes = pending.takeAll()
                guard !writes.isEmpty else { continue }
                guard let self else {
                    Self.resume(writes, with: .failure(PostgresStoreError.database("the store is closed")))
                    continue
                }
                await self.commit(writes)
            }
        } }
    }

    /// Ends the writer and the connections; writes still queued fail.
    public func close() {
        wakeups.finish()
        writerTask.withLock { $0?.cancel() }
        clientTask.cancel()
        Self.resume(pending.takeAll(), with: .failure(PostgresStoreError.database("the store is closed")))
    }

    deinit { close() }

    /// From now on, every write transaction checks that the lease row still
    /// holds `token` (see the type's comment).
    public func fence(token: Int64) {
        fenceToken.withLock { $0 = token }
    }

    /// Transactions committed so far.
    public var commitCount: Int { commits.withLock { $0 } }

    // MARK: Schema

    private func migrate() async throws {
        try await client.withConnection { connection in
            try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: location.schema)", logger: Self.logger)
            try await Self.inTransaction(connection) {
                // Nodes starting together migrate one after the other.
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext('spool.migrate.' || current_schema()))", logger: Self.logger)
                try await connection.query("CREATE TABLE IF NOT EXISTS spool_schema (version bigint NOT NULL)", logger: Self.logger)
                var version: Int64 = 0
                for try await found in try await connection.query("SELECT coalesce(max(version), 0) FROM spool_schema", logger: Self.logger)
                    .decode(Int64.self) { version = found }
                guard version <= PostgresSchema.latestVersion else {
                    throw PostgresStoreError.schemaTooNew(version, known: PostgresSchema.latestVersion)
                }
                for migration in PostgresSchema.migrations where migration.version > version {
                    for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger) }
                    try await connection.query("INSERT INTO spool_schema VALUES (\(migration.version))", logger: Self.logger)
                }
            }
        }
    }

    /// The schema version the database holds.
    public func schemaVersion() async throws -> Int64 {
        try await read { connection in
            try await Self.single(Int64.self, connection.query("SELECT coalesce(max(version), 0) FROM spool_schema", logger: Self.logger)) ?? 0
        }
    }

    // MARK: Transactions

    static func inTransaction<T: Sendable>(_ connection: PostgresConnection, _ body: @Sendable () async throws -> T) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        do {
            let result = try await body()
            try await connection.query("COMMIT", logger: logger)
            return result
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// A write transaction: fenced when a fence is set.
    private func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let token = fenceToken.withLock { $0 }
        return try await client.withConnection { connection in
            try await Self.inTransaction(connection) {
                if let token { try await Self.checkFence(token, on: connection) }
                return try await body(connection)
            }
        }
    }

    static func checkFence(_ token: Int64, on connection: PostgresConnection) async throws {
        let rows = try await connection.query("SELECT token, holder FROM leader_lease WHERE name = 'leader' FOR SHARE", logger: logger)
        var found: (Int64, String)?
        for try await row in rows.decode((Int64, String).self) { found = row }
        guard let found, found.0 == token else {
            throw PostgresStoreError.fenced(
                "this node's lease token is \(token), the database's is \(found.map { "\($0.0), held by \($0.1)" } ?? "gone")")
        }
    }

    private func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { try await body($0) }
        } catch {
            throw PostgresStoreError.from(error)
        }
    }

    static func single<T: PostgresDecodable & Sendable>(_ type: T.Type, _ rows: PostgresRowSequence) async throws -> T? {
        var value: T?
        for try await found in rows.decode(T.self) where value == nil { value = found }
        return value
    }

    // MARK: Writes

    public func insert(calls: [[NewJob]]) async throws -> [Result<[InsertOutcome], any Error>] {
        try await withCheckedThrowingContinuation { enqueue(.insert(calls, $0)) }
    }

    public func update(_ records: [JobRecord]) async throws {
        try await withCheckedThrowingContinuation { enqueue(.update(records, $0)) }
    }

    private func enqueue(_ write: Write) {
        if pending.post(write) { wakeups.yield() }
    }

    /// Each write's answer: one result per call for inserts.
    private typealias Answer = Result<[Result<[InsertOutcome], any Error>], any Error>

    private static func resume(_ writes: [Write], with answer: Answer) {
        resume(writes, answers: writes.map { _ in answer })
    }

    private static func resume(_ writes: [Write], answers: [Answer]) {
        for (write, answer) in zip(writes, answers) {
            switch write {
            case .insert(_, let continuation): continuation.resume(with: answer)
            case .update(_, let continuation): continuation.resume(with: answer.map { _ in })
            }
        }
    }

    /// Commits `writes` in one transaction: all together, or, if a
    /// statement fails, each in a savepoint of its own.
    private func commit(_ writes: [Write]) async {
        let started = ContinuousClock.now
        do {
            let token = fenceToken.withLock { $0 }
            let answers: [Answer]
            if let alone = try await client.withConnection({ try await Self.writeInOneStatement(writes, token: token, on: $0) }) {
                answers = alone
            } else {
                answers = try await write { connection in try await Self.writeTogether(writes, on: connection) }
            }
            finishCommit(started)
            cachePayloads(of: writes, answers)
            Self.resume(writes, answers: answers)
            return
        } catch {
            // Nothing is written unless the database refused a statement.
            guard Self.isStatementError(error) else { return Self.resume(writes, with: .failure(PostgresStoreError.from(error))) }
        }
        do {
            let answers = try await write { connection in try await Self.writeApart(writes, on: connection) }
            finishCommit(started)
            cachePayloads(of: writes, answers)
            Self.resume(writes, answers: answers)
        } catch {
            Self.resume(writes, with: .failure(PostgresStoreError.from(error)))
        }
    }

    /// Keeps the payloads of the jobs the commit stored, for their dispatch.
    private func cachePayloads(of writes: [Write], _ answers: [Answer]) {
        for (write, answer) in zip(writes, answers) {
            guard case .insert(let calls, _) = write, case .success(let results) = answer else { continue }
            for (call, result) in zip(calls, results) {
                guard case .success(let outcomes) = result else { continue }
                for (job, outcome) in zip(call, outcomes) where outcome == .inserted {
                    payloads.keep(job.payload, forSeq: job.record.seq)
                }
            }
        }
    }

    private func finishCommit(_ started: ContinuousClock.Instant) {
        commits.withLock { $0 += 1 }
        let (seconds, attoseconds) = started.duration(to: .now).components
        commitTimer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// An error the server gave for one statement (a constraint, a value
    /// out of range), which a call alone may cause; not a lost
    /// connection, and not the fence.
    private static func isStatementError(_ error: any Error) -> Bool {
        guard let state = PostgresStoreError.sqlState(of: error) else { return false }
        // Class 08: connection exceptions; 57: operator intervention; 53: insufficient resources.
        return !["08", "57", "53"].contains(String(state.prefix(2)))
    }

    /// The common group — jobs needing no row but their own (no batch, no
    /// labels, ids carrying their seqs) and updates of other jobs — in one
    /// statement, its own transaction: one round trip instead of four. The
    /// fence is a CTE read FOR SHARE, each row written only where it still
    /// holds this node's token; the statement answers the token it found,
    /// so a fenced node learns it wrote nothing. Nil for any other group.
    private static func writeInOneStatement(_ writes: [Write], token: Int64?, on connection: PostgresConnection) async throws -> [Answer]? {
        var calls: [[NewJob]] = []
        var updates: [JobRecord] = []
        for write in writes {
            switch write {
            case .insert(let more, _): calls += more
            case .update(let records, _): updates += records
            }
        }
        let jobs = Array(calls.joined())
        guard jobs.count <= rowsPerStatement, updates.count <= rowsPerStatement,
              jobs.reduce(0, { $0 + $1.payload.count }) <= payloadBytesPerStatement,
              jobs.allSatisfy({ $0.batchKey == nil && $0.record.batchId == nil && $0.record.labels.isEmpty
                                && $0.record.jobID.embeddedSeq == $0.record.seq }) else { return nil }
        // One statement's parts see the same snapshot: an update of a job inserted beside it would miss it.
        let insertedSeqs = Set(jobs.map(\.record.seq))
        guard !updates.contains(where: { insertedSeqs.contains($0.seq) }) else { return nil }

        var binds = PostgresBindings()
        var parts: [String] = []
        var condition: String?
        if let token {
            parts.append("fence AS (SELECT token FROM leader_lease WHERE name = 'leader' FOR SHARE)")
            binds.append(token)
            condition = "(SELECT token FROM fence) = $1"
        }
        if !jobs.isEmpty {
            var columns = InsertColumns()
            for job in jobs { columns.append(job) }
            let first = binds.count + 1
            columns.append(to: &binds)
            parts.append("inserted AS (\(InsertColumns.insertSQL(from: first, condition: condition)) RETURNING seq)")
        }
        if !updates.isEmpty {
            var latest: [Int64: Int] = [:]
            for (index, record) in updates.enumerated() { latest[record.seq] = index }
            var columns = UpdateColumns()
            for index in latest.values.sorted() { columns.append(updates[index]) }
            let first = binds.count + 1
            columns.append(to: &binds)
            parts.append("updated AS (\(UpdateColumns.updateSQL(from: first, condition: condition)) RETURNING 1)")
        }
        guard !parts.isEmpty else { return writes.map { _ in .success([]) } }
        let found = token == nil ? "NULL::int8" : "(SELECT token FROM fence)"
        let seqs = jobs.isEmpty ? "ARRAY[]::int8[]" : "ARRAY(SELECT seq FROM inserted)"
        // The jobs holding the group's keys before it: read in the same
        // statement, so that no read follows the commit (whose failure would
        // tell a caller its stored job failed). Its snapshot does not see
        // the statement's own rows; a key taken within the group is found
        // among the group's jobs.
        let keys = Array(Set(jobs.compactMap { $0.record.idempotencyKey.map(JobRow.clean) }))
        var held = "NULL::text[], NULL::text[]"
        if !keys.isEmpty {
            binds.append(keys)
            held = "(SELECT array_agg(idempotency_key ORDER BY seq) FROM jobs WHERE idempotency_key = ANY($\(binds.count))), "
                + "(SELECT array_agg(id ORDER BY seq) FROM jobs WHERE idempotency_key = ANY($\(binds.count)))"
        }
        let rows = try await connection.query(PostgresQuery(
            unsafeSQL: "WITH \(parts.joined(separator: ", ")) SELECT \(found), \(seqs), \(held)", binds: binds), logger: logger)
        var inserted = Set<Int64>()
        var holders: [String: String] = [:]
        for try await (holder, stored, heldKeys, heldIDs) in rows.decode((Int64?, [Int64], [String]?, [String]?).self) {
            if let token, holder != token {
                throw PostgresStoreError.fenced("this node's lease token is \(token), the database's is \(holder.map(String.init) ?? "gone")")
            }
            inserted = Set(stored)
            for (key, id) in zip(heldKeys ?? [], heldIDs ?? []) { holders[key] = id }
        }
        for job in jobs where inserted.contains(job.record.seq) {
            if let key = job.record.idempotencyKey.map(JobRow.clean), holders[key] == nil { holders[key] = job.record.id }
        }
        return answers(for: writes, try outcomes(of: calls, inserted: inserted, holders: holders))
    }

    private static func writeTogether(_ writes: [Write], on connection: PostgresConnection) async throws -> [Answer] {
        var calls: [[NewJob]] = []
        var updates: [JobRecord] = []
        for write in writes {
            switch write {
            case .insert(let more, _): calls += more
            case .update(let records, _): updates += records
            }
        }
        let outcomes = try await insert(calls, on: connection)
        try await update(updates, on: connection)
        return answers(for: writes, outcomes)
    }

    /// Each write's answer, from the outcomes of every insert call of the
    /// group in order.
    private static func answers(for writes: [Write], _ outcomes: [[InsertOutcome]]) -> [Answer] {
        var outcomes = outcomes[...]
        return writes.map { write in
            switch write {
            case .insert(let calls, _):
                defer { outcomes = outcomes.dropFirst(calls.count) }
                return .success(outcomes.prefix(calls.count).map { .success($0) })
            case .update: return .success([])
            }
        }
    }

    private static func writeApart(_ writes: [Write], on connection: PostgresConnection) async throws -> [Answer] {
        var answers: [Answer] = []
        for write in writes {
            switch write {
            case .insert(let calls, _):
                var results: [Result<[InsertOutcome], any Error>] = []
                for call in calls {
                    results.append(try await inSavepoint(connection) { try await insert([call], on: connection)[0] })
                }
                answers.append(.success(results))
            case .update(let records, _):
                answers.append(try await inSavepoint(connection) { try await update(records, on: connection) }.map { [] })
            }
        }
        return answers
    }

    /// `body`'s result, or the statement error it failed with, undone.
    private static func inSavepoint<T>(_ connection: PostgresConnection, _ body: () async throws -> T) async throws -> Result<T, any Error> {
        try await connection.query("SAVEPOINT write", logger: logger)
        do {
            let result = try await body()
            try await connection.query("RELEASE write", logger: logger)
            return .success(result)
        } catch {
            guard isStatementError(error) else { throw error }
            try await connection.query("ROLLBACK TO write", logger: logger)
            try await connection.query("RELEASE write", logger: logger)
            return .failure(PostgresStoreError.from(error))
        }
    }

    /// Stores the calls' jobs; each call's outcomes, in order.
    private static func insert(_ calls: [[NewJob]], on connection: PostgresConnection) async throws -> [[InsertOutcome]] {
        let jobs = calls.joined()
        guard !jobs.isEmpty else { return calls.map { _ in [] } }
        var inserted = Set<Int64>()
        for chunk in statements(of: Array(jobs)) {
            var columns = InsertColumns()
            for job in chunk { columns.append(job) }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: InsertColumns.insert, binds: columns.bindings()), logger: logger)
            for try await seq in rows.decode(Int64.self) { inserted.insert(seq) }
        }
        let outcomes = try await outcomes(of: calls, inserted: inserted, on: connection)
        let stored = jobs.filter { inserted.contains($0.record.seq) }.map(\.record)
        try await recordExtras(of: stored, on: connection)
        for (call, callOutcomes) in zip(calls, outcomes) {
            guard let first = call.first, let key = first.batchKey, let batch = first.record.batchId else { continue }
            let size = Int64(zip(call, callOutcomes).filter { $0.1 == .inserted && $0.0.record.batchId == batch }.count)
            try await connection.query("UPDATE batches SET idempotency_key = \(key), size = \(size) WHERE id = \(batch)", logger: logger)
        }
        return outcomes
    }

    /// Each call's outcomes: inserted, or a duplicate of the job holding
    /// its idempotency key (the jobs not stored lost their key to an earlier one).
    private static func outcomes(of calls: [[NewJob]], inserted: Set<Int64>, on connection: PostgresConnection) async throws -> [[InsertOutcome]] {
        var holders: [String: String] = [:]
        let taken = calls.joined().filter { !inserted.contains($0.record.seq) }.compactMap(\.record.idempotencyKey)
        if !taken.isEmpty {
            let rows = try await connection.query(
                "SELECT idempotency_key, id FROM jobs WHERE idempotency_key = ANY(\(Array(Set(taken.map(JobRow.clean)))))", logger: logger)
            for try await (key, id) in rows.decode((String, String).self) { holders[key] = id }
        }
        return try outcomes(of: calls, inserted: inserted, holders: holders)
    }

    /// Each call's outcomes, given the holders of the keys not stored.
    private static func outcomes(of calls: [[NewJob]], inserted: Set<Int64>, holders: [String: String]) throws -> [[InsertOutcome]] {
        try calls.map { call in
            try call.map { job in
                if inserted.contains(job.record.seq) { return .inserted }
                guard let key = job.record.idempotencyKey, let holder = holders[JobRow.clean(key)] else {
                    throw PostgresStoreError.database("job \(job.record.id) was neither stored nor a duplicate")
                }
                return .duplicate(of: holder)
            }
        }
    }

    /// The rows beside a stored job: its batch's seq range, its labels, its
    /// id when the id does not carry its seq.
    private static func recordExtras(of records: [JobRecord], on connection: PostgresConnection) async throws {
        var ranges: [String: (first: Int64, last: Int64)] = [:]
        var labels: [(String, String, Int64)] = []
        var otherIDs: [(String, Int64)] = []
        for record in records {
            if let batch = record.batchId {
                let range = ranges[batch]
                ranges[batch] = (min(range?.first ?? record.seq, record.seq), max(range?.last ?? record.seq, record.seq))
            }
            for (key, value) in record.labels { labels.append((key, value, record.seq)) }
            if record.jobID.embeddedSeq != record.seq { otherIDs.append((record.id, record.seq)) }
        }
        if !ranges.isEmpty {
            let sorted = ranges.sorted { $0.key < $1.key }
            try await connection.query("""
                INSERT INTO batches (id, first_seq, last_seq)
                SELECT * FROM unnest(\(sorted.map(\.key))::text[], \(sorted.map(\.value.first))::bigint[], \(sorted.map(\.value.last))::bigint[])
                ON CONFLICT (id) DO UPDATE SET first_seq = least(batches.first_seq, excluded.first_seq),
                    last_seq = greatest(batches.last_seq, excluded.last_seq)
                """, logger: logger)
        }
        if !labels.isEmpty {
            try await connection.query("""
                INSERT INTO job_labels (key, value, seq)
                SELECT * FROM unnest(\(labels.map { JobRow.clean($0.0) })::text[], \(labels.map { JobRow.clean($0.1) })::text[],
                                     \(labels.map(\.2))::bigint[])
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        if !otherIDs.isEmpty {
            try await connection.query("""
                INSERT INTO other_job_ids (id, seq) SELECT * FROM unnest(\(otherIDs.map { JobRow.clean($0.0) })::text[], \(otherIDs.map(\.1))::bigint[])
                """, logger: logger)
        }
    }

    /// Saves the records' changing fields; of several records of one job,
    /// the last.
    private static func update(_ records: [JobRecord], on connection: PostgresConnection) async throws {
        guard !records.isEmpty else { return }
        var latest: [Int64: Int] = [:]
        for (index, record) in records.enumerated() { latest[record.seq] = index }
        let unique = latest.values.sorted().map { records[$0] }
        for chunk in unique.chunked(rowsPerStatement) {
            var columns = UpdateColumns()
            for record in chunk { columns.append(record) }
            try await connection.query(PostgresQuery(unsafeSQL: UpdateColumns.update, binds: columns.bindings()), logger: logger)
        }
    }

    // MARK: Reads

    public func payload(ofJobSeq seq: Int64) async throws -> [UInt8]? {
        if let cached = payloads.take(seq) { return cached }
        return try await read { connection in
            try await Self.single(ByteBuffer.self, connection.query("SELECT payload FROM jobs WHERE seq = \(seq)", logger: Self.logger))
                .map { Array($0.readableBytesView) }
        }
    }

    public func job(id: String) async throws -> JobRecord? {
        try await read { connection in
            // A job's id carries its seq, unless other_job_ids says otherwise.
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT \(JobRow.selectColumns) FROM jobs
                WHERE seq = coalesce((SELECT seq FROM other_job_ids WHERE id = $1), $2) AND id = $1
                """, binds: Self.binds(JobRow.clean(id), JobID(id).embeddedSeq)), logger: Self.logger)
            return try await JobRow.records(rows).first
        }
    }

    static func binds(_ text: String, _ number: Int64?) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(text)
        binds.append(number)
        return binds
    }

    /// A batch's jobs lie in its range of seqs (batches).
    private static let inBatch = """
        seq BETWEEN (SELECT first_seq FROM batches WHERE id = $1) AND (SELECT last_seq FROM batches WHERE id = $1) AND batch_id = $1
        """

    public func jobs(inBatch id: String) async throws -> [JobRecord] {
        try await read { connection in
            var binds = PostgresBindings()
            binds.append(JobRow.clean(id))
            return try await JobRow.records(connection.query(PostgresQuery(
                unsafeSQL: "SELECT \(JobRow.selectColumns) FROM jobs WHERE \(Self.inBatch) ORDER BY seq", binds: binds), logger: Self.logger))
        }
    }

    public func batch(idempotencyKey: String) async throws -> KeyedBatch? {
        try await read { connection in
            let rows = try await connection.query(
                "SELECT id, coalesce(size, 0) FROM batches WHERE idempotency_key = \(JobRow.clean(idempotencyKey))", logger: Self.logger)
            var found: KeyedBatch?
            for try await (id, size) in rows.decode((String, Int64).self) { found = KeyedBatch(id: id, size: Int(clamping: size)) }
            return found
        }
    }

    public func stateCounts(ofBatch id: String) async throws -> StateCounts {
        try await read { connection in
            var binds = PostgresBindings()
            binds.append(JobRow.clean(id))
            let rows = try await connection.query(PostgresQuery(
                unsafeSQL: "SELECT state, count(*) FROM jobs WHERE \(Self.inBatch) GROUP BY state", binds: binds), logger: Self.logger)
            var counts = StateCounts()
            for try await (state, count) in rows.decode((Int64, Int64).self) {
                guard let state = Int32(exactly: state).flatMap(JobState.init(rawValue:)) else { continue }
                counts[state] = Int(count)
            }
            return counts
        }
    }

    /// SCHEDULED, QUEUED, RUNNING and BLOCKED.
    private static let isUnfinished = "state IN (1, 2, 3, 7)"

    public func stateCountsOfUnfinishedBatches() async throws -> [String: StateCounts] {
        try await read { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT batches.id, jobs.state, count(*) FROM batches
                JOIN jobs ON jobs.seq BETWEEN batches.first_seq AND batches.last_seq AND jobs.batch_id = batches.id
                WHERE batches.id IN (SELECT DISTINCT batch_id FROM jobs WHERE \(Self.isUnfinished) AND batch_id IS NOT NULL)
                GROUP BY batches.id, jobs.state
                """), logger: Self.logger)
            var counts: [String: StateCounts] = [:]
            for try await (batch, state, count) in rows.decode((String, Int64, Int64).self) {
                guard let state = Int32(exactly: state).flatMap(JobState.init(rawValue:)) else { continue }
                counts[batch, default: StateCounts()][state] = Int(count)
            }
            return counts
        }
    }

    public func unfinishedJobCount() async throws -> Int {
        try await read { connection in
            Int(try await Self.single(Int64.self, connection.query(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM jobs WHERE \(Self.isUnfinished)"), logger: Self.logger)) ?? 0)
        }
    }

    public func unfinishedJobs(chunkSize: Int) -> AsyncThrowingStream<[JobRecord], any Error> {
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: [JobRecord].self)
        let task = Task { [client] in
            do {
                try await client.withConnection { connection in
                    // One query, its rows streamed as they are read.
                    let rows = try await connection.query(PostgresQuery(
                        unsafeSQL: "SELECT \(JobRow.selectColumns) FROM jobs WHERE \(Self.isUnfinished)"), logger: Self.logger)
                    var chunk: [JobRecord] = []
                    for try await row in rows {
                        chunk.append(try JobRow.record(row))
                        if chunk.count == chunkSize {
                            continuation.yield(chunk)
                            chunk = []
                        }
                    }
                    if !chunk.isEmpty { continuation.yield(chunk) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: PostgresStoreError.from(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return chunks
    }

    public func lastSeq() async throws -> Int64 {
        try await read { connection in
            try await Self.single(Int64.self, connection.query("SELECT coalesce(max(seq), 0) FROM jobs", logger: Self.logger)) ?? 0
        }
    }

    public func jobs(matching query: JobQuery) async throws -> JobPage {
        try await read { connection in try await PostgresListing(connection: connection).page(query) }
    }

    // MARK: Settings and retention

    public func queueOverrides() async throws -> [String: QueueOverride] {
        try await read { connection in
            let rows = try await connection.query(
                "SELECT queue, paused, concurrency, rate_set, per_second, burst FROM queue_overrides", logger: Self.logger)
            var overrides: [String: QueueOverride] = [:]
            for try await (queue, paused, concurrency, rateSet, perSecond, burst)
                in rows.decode((String, Bool?, Int64?, Bool, Double?, Double?).self) {
                overrides[queue] = QueueOverride(storedPaused: paused, concurrency: concurrency, rateSet: rateSet,
                                                 perSecond: perSecond, burst: burst)
            }
            return overrides
        }
    }

    public func save(_ override: QueueOverride, forQueue queue: String) async throws {
        let queue = JobRow.clean(queue)
        try await fencedWrite { connection in
            if override.isEmpty {
                try await connection.query("DELETE FROM queue_overrides WHERE queue = \(queue)", logger: Self.logger)
                return
            }
            let rate = override.rateLimit.flatMap { $0 }
            try await connection.query("""
                INSERT INTO queue_overrides VALUES (\(queue), \(override.paused == true ? true : nil), \(override.concurrency.map { Int64($0) }),
                    \(override.rateLimit != nil), \(rate?.ratePerSecond), \(rate?.burst))
                ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused, concurrency = excluded.concurrency,
                    rate_set = excluded.rate_set, per_second = excluded.per_second, burst = excluded.burst
                """, logger: Self.logger)
        }
    }

    public func scheduleRecords() async throws -> [String: ScheduleRecord] {
        try await read { connection in
            let rows = try await connection.query("SELECT name, last_fire_ms, last_job_id FROM schedules", logger: Self.logger)
            var records: [String: ScheduleRecord] = [:]
            for try await (name, lastFireMs, lastJobID) in rows.decode((String, Int64, String?).self) {
                // A time out of range (a row edited by hand) is held to the range jobs' times keep.
                records[name] = ScheduleRecord(lastFireMs: min(max(0, lastFireMs), JobLimits.maxRunAtMs), lastJobID: lastJobID)
            }
            return records
        }
    }

    public func save(_ record: ScheduleRecord, forSchedule name: String) async throws {
        let name = JobRow.clean(name)
        try await fencedWrite { connection in
            try await connection.query("""
                INSERT INTO schedules VALUES (\(name), \(record.lastFireMs), \(record.lastJobID.map(JobRow.clean)))
                ON CONFLICT (name) DO UPDATE SET last_fire_ms = excluded.last_fire_ms, last_job_id = excluded.last_job_id
                """, logger: Self.logger)
        }
    }

    public func pruneFinished(beforeMs: Int64, limit: Int) async throws -> Int {
        try await fencedWrite { connection in
            let pruned = try await Self.single(Int64.self, connection.query("""
                WITH gone AS (
                    DELETE FROM jobs WHERE seq IN (
                        SELECT seq FROM jobs WHERE finished_at_ms IS NOT NULL AND finished_at_ms < \(beforeMs) AND state BETWEEN 4 AND 6
                        ORDER BY finished_at_ms LIMIT \(Int64(limit)))
                    RETURNING seq, id),
                labels AS (DELETE FROM job_labels WHERE seq IN (SELECT seq FROM gone)),
                ids AS (DELETE FROM other_job_ids WHERE id IN (SELECT id FROM gone))
                SELECT count(*) FROM gone
                """, logger: Self.logger)) ?? 0
            // The batches whose every job is gone (as on SQLite).
            try await connection.query(
                "DELETE FROM batches WHERE last_seq < (SELECT coalesce(min(seq), 9223372036854775807) FROM jobs)", logger: Self.logger)
            return Int(pruned)
        }
    }

    /// A write outside group commit (settings, retention), fenced as the rest.
    @discardableResult
    private func fencedWrite<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await write(body)
        } catch {
            throw PostgresStoreError.from(error)
        }
    }
}

extension Collection {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [SubSequence] {
        var chunks: [SubSequence] = []
        var start = startIndex
        while start != endIndex {
            let end = index(start, offsetBy: size, limitedBy: endIndex) ?? endIndex
            chunks.append(self[start..<end])
            start = end
        }
        return chunks
    }
}
