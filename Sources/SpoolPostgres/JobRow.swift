import NIOCore
import PostgresNIO
import SpoolCore

/// How a `JobRecord` maps to a row of PostgreSQL's `jobs`: the one place
/// that knows.
enum JobRow {
    /// What a select reads, in the order `record(_:)` takes them.
    static let columns = [
        "id", "seq", "queue", "type", "priority", "state", "idempotency_key", "lock_keys", "rate_key",
        "max_attempts", "attempt", "timeout_ms", "run_at_ms", "batch_id", "labels", "progress", "progress_step",
        "progress_message", "result", "error_code", "error_message", "error_retryable", "created_at_ms",
        "started_at_ms", "finished_at_ms", "updated_at_ms", "expire_at_ms", "depends_on", "depends_on_batches",
        "run_if_dependencies_fail", "dependency_summary", "rate_cost",
    ]
    static let selectColumns = columns.joined(separator: ", ")
    static func selectColumns(of table: String) -> String { columns.map { "\(table).\($0)" }.joined(separator: ", ") }

    /// Every column an INSERT writes: a job is stored whole in one row.
    static let insertColumns = ["payload"] + columns

    /// What a job's life changes, with the types its VALUES are cast to.
    static let changingColumns: [(name: String, type: String)] = [
        ("state", "bigint"), ("attempt", "bigint"), ("run_at_ms", "bigint"), ("progress", "double precision"),
        ("progress_step", "text"), ("progress_message", "text"), ("result", "bytea"), ("error_code", "text"),
        ("error_message", "text"), ("error_retryable", "boolean"), ("started_at_ms", "bigint"),
        ("finished_at_ms", "bigint"), ("updated_at_ms", "bigint"), ("expire_at_ms", "bigint"), ("dependency_summary", "text"),
    ]

    /// PostgreSQL's text holds no NUL character: one becomes U+FFFD, as
    /// the wire does it (strings from requests never hold one; a worker's
    /// progress text might).
    static func clean(_ text: String) -> String {
        text.utf8.contains(0) ? String(text.unicodeScalars.map { $0 == "\0" ? "\u{FFFD}" : Character($0) }) : text
    }

    static func clean(_ texts: [String]) -> [String] { texts.map(clean) }

    /// Appends `job`'s values (`insertColumns`) and answers its VALUES row.
    static func bindInsert(_ job: NewJob, to binds: inout PostgresBindings) -> String {
        let first = binds.count + 1
        let r = job.record
        binds.append(ByteBuffer(bytes: job.payload))
        binds.append(clean(r.id))
        binds.append(r.seq)
        binds.append(clean(r.queue))
        binds.append(clean(r.type))
        binds.append(Int64(r.priority))
        binds.append(Int64(r.state.rawValue))
        binds.append(r.idempotencyKey.map(clean))
        binds.append(clean(r.lockKeys))
        binds.append(r.rateKey.map(clean))
        binds.append(Int64(r.maxAttempts))
        binds.append(Int64(r.attempt))
        binds.append(r.timeoutMs)
        binds.append(r.runAtMs)
        binds.append(r.batchId.map(clean))
        binds.append(clean(r.labels.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }))
        appendLife(of: r, to: &binds)
        binds.append(r.createdAtMs)
        binds.append(r.startedAtMs)
        binds.append(r.finishedAtMs)
        binds.append(r.updatedAtMs)
        binds.append(r.expireAtMs)
        let dependencies = r.dependencies
        binds.append(dependencies.map { clean($0.jobs) })
        binds.append(dependencies.map { clean($0.batches) })
        binds.append(dependencies?.runIfFailed)
        binds.append(r.dependencySummary.map(clean))
        binds.append(r.rateCost == 1 ? nil : Int64(r.rateCost))
        return "(" + (first..<binds.count + 1).map { "$\($0)" }.joined(separator: ", ") + ")"
    }

    /// progress … error_retryable: what a job's run sets, in both an
    /// INSERT's and an UPDATE's order.
    private static func appendLife(of r: JobRecord, to binds: inout PostgresBindings) {
        let progress = r.progress
        binds.append(progress.fraction)
        binds.append(clean(progress.step))
        binds.append(clean(progress.message))
        binds.append(r.result.map { ByteBuffer(bytes: $0) })
        let failure = r.failure
        binds.append(failure.map { clean($0.code) })
        binds.append(failure.map { clean($0.message) })
        binds.append(failure?.retryable)
    }

    /// Appends the seq and `changingColumns` of `r` and answers its VALUES
    /// row, each value cast (a NULL's type is not known otherwise).
    static func bindChanging(_ r: JobRecord, to binds: inout PostgresBindings) -> String {
        let first = binds.count + 1
        binds.append(r.seq)
        binds.append(Int64(r.state.rawValue))
        binds.append(Int64(r.attempt))
        binds.append(r.runAtMs)
        appendLife(of: r, to: &binds)
        binds.append(r.startedAtMs)
        binds.append(r.finishedAtMs)
        binds.append(r.updatedAtMs)
        binds.append(r.expireAtMs)
        binds.append(r.dependencySummary.map(clean))
        let types = ["bigint"] + changingColumns.map(\.type)
        return "(" + types.enumerated().map { "$\(first + $0.offset)::\($0.element)" }.joined(separator: ", ") + ")"
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [JobRecord] {
        var records: [JobRecord] = []
        for try await row in rows { records.append(try record(row)) }
        return records
    }

    /// Reads a row selected with `columns`, in that order. A value out of
    /// its field's range is named in `corruption` (the engine fails such a
    /// job at start-up instead of trapping); a column of the wrong type
    /// throws.
    static func record(_ row: PostgresRow) throws -> JobRecord {
        let cells = row.makeRandomAccess()
        func value<T: PostgresDecodable>(_ column: Int, _ type: T.Type = T.self) throws -> T {
            do {
                return try cells[column].decode(T.self)
            } catch {
                throw PostgresStoreError.corrupt("column \(columns[column]) of a job cannot be read as \(T.self)")
            }
        }
        let id: String = try value(0)
        let stateNumber: Int64 = try value(5)
        guard let state = Int32(exactly: stateNumber).flatMap(JobState.init(rawValue:)) else {
            throw PostgresStoreError.corrupt("job \(id) has state \(stateNumber), which is no state")
        }
        var problems: [String] = []
        func int32(_ column: Int) throws -> Int32 {
            let number: Int64 = try value(column)
            if let exact = Int32(exactly: number) { return exact }
            problems.append("\(columns[column]) \(number) is out of range")
            return 0
        }
        let labelList: [String] = try value(14)
        if labelList.count % 2 != 0 { problems.append("labels is malformed") }
        var labels: [String: String] = [:]
        for index in stride(from: 0, to: labelList.count - 1, by: 2) { labels[labelList[index]] = labelList[index + 1] }
        var record = JobRecord(
            id: JobID(id), seq: try value(1), queue: try value(2), type: try value(3), priority: try int32(4), state: state,
            idempotencyKey: try value(6), lockKeys: try value(7), rateKey: try value(8), maxAttempts: try int32(9),
            timeoutMs: try value(11), runAtMs: try value(12), batchId: try value(13), labels: labels, createdAtMs: try value(22))
        record.attempt = try int32(10)
        record.updatedAtMs = try value(25)
        let progress = JobRecord.Progress(fraction: try value(15), step: try value(16), message: try value(17))
        if progress != JobRecord.Progress() { record.progress = progress }
        if let result: ByteBuffer = try value(18) { record.result = Array(result.readableBytesView) }
        if let code: String = try value(19) {
            record.failure = JobRecord.Failure(code: code, message: try value(20) ?? "", retryable: try value(21) ?? false)
        }
        if let started: Int64 = try value(23) { record.startedAtMs = started }
        if let finished: Int64 = try value(24) { record.finishedAtMs = finished }
        if let expire: Int64 = try value(26) { record.expireAtMs = expire }
        let jobs: [String]? = try value(27)
        let batches: [String]? = try value(28)
        if jobs != nil || batches != nil {
            record.dependencies = .init(jobs: jobs ?? [], batches: batches ?? [], runIfFailed: try value(29) ?? false)
        }
        if let summary: String = try value(30) { record.dependencySummary = summary }
        if let cost: Int64 = try value(31) {
            if let exact = Int32(exactly: cost), exact >= 1 { record.rateCost = exact } else { problems.append("rate_cost \(cost) is out of range") }
        }
        if !problems.isEmpty { record.corruption = problems.joined(separator: "; ") }
        return record
    }
}
