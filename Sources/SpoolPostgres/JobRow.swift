import Foundation
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

    /// What a job's life changes, with their types.
    static let changingColumns: [(name: String, type: String)] = [
        ("state", "int8"), ("attempt", "int8"), ("run_at_ms", "int8"), ("progress", "float8"),
        ("progress_step", "text"), ("progress_message", "text"), ("result", "bytea"), ("error_code", "text"),
        ("error_message", "text"), ("error_retryable", "bool"), ("started_at_ms", "int8"),
        ("finished_at_ms", "int8"), ("updated_at_ms", "int8"), ("expire_at_ms", "int8"), ("dependency_summary", "text"),
    ]

    /// PostgreSQL's text holds no NUL character: one becomes U+FFFD, as
    /// the wire does it (strings from requests never hold one; a worker's
    /// progress text might).
    static func clean(_ text: String) -> String {
        text.utf8.contains(0) ? String(text.unicodeScalars.map { $0 == "\0" ? "\u{FFFD}" : Character($0) }) : text
    }

    static func clean(_ texts: [String]) -> [String] { texts.map(clean) }

    /// A list as a JSON array (a `text[]` column's value in a column of
    /// rows, where arrays of arrays must be rectangular).
    static func json(_ list: [String]) -> String {
        var out = "["
        for (index, text) in list.enumerated() {
            if index > 0 { out += "," }
            out += "\""
            for scalar in clean(text).unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            out += "\""
        }
        return out + "]"
    }
}

/// Jobs as columns, one array each: an INSERT … SELECT FROM unnest(…) of
/// any number of rows is one short statement with one parameter a column.
/// (A VALUES list of a parameter a field made PostgreSQL spend most of a
/// batch parsing and planning.)
struct InsertColumns {
    var payload: [ByteBuffer] = [], id: [String] = [], seq: [Int64] = [], queue: [String] = [], type: [String] = []
    var priority: [Int64] = [], state: [Int64] = [], idempotencyKey: [String?] = [], lockKeys: [String?] = []
    var rateKey: [String?] = [], maxAttempts: [Int64] = [], attempt: [Int64] = [], timeoutMs: [Int64] = []
    var runAtMs: [Int64] = [], batchId: [String?] = [], labels: [String?] = [], run = RunColumns(), createdAtMs: [Int64] = []
    var startedAtMs: [Int64?] = [], finishedAtMs: [Int64?] = [], updatedAtMs: [Int64] = [], expireAtMs: [Int64?] = []
    var dependsOn: [String?] = [], dependsOnBatches: [String?] = [], runIfFailed: [Bool?] = [], summary: [String?] = []
    var rateCost: [Int64?] = []

    /// The columns, in `bindings()`' order, with their types; a list column
    /// comes as JSON text (NULL: the empty list, or NULL where the column
    /// takes NULL) and is turned back into `text[]`.
    private static let columns: [(name: String, type: String, list: String?)] = [
        ("payload", "bytea", nil), ("id", "text", nil), ("seq", "int8", nil), ("queue", "text", nil), ("type", "text", nil),
        ("priority", "int8", nil), ("state", "int8", nil), ("idempotency_key", "text", nil), ("lock_keys", "text", "'{}'"),
        ("rate_key", "text", nil), ("max_attempts", "int8", nil), ("attempt", "int8", nil), ("timeout_ms", "int8", nil),
        ("run_at_ms", "int8", nil), ("batch_id", "text", nil), ("labels", "text", "'{}'"), ("progress", "float8", nil),
        ("progress_step", "text", nil), ("progress_message", "text", nil), ("result", "bytea", nil), ("error_code", "text", nil),
        ("error_message", "text", nil), ("error_retryable", "bool", nil), ("created_at_ms", "int8", nil),
        ("started_at_ms", "int8", nil), ("finished_at_ms", "int8", nil), ("updated_at_ms", "int8", nil),
        ("expire_at_ms", "int8", nil), ("depends_on", "text", "NULL"), ("depends_on_batches", "text", "NULL"),
        ("run_if_dependencies_fail", "bool", nil), ("dependency_summary", "text", nil), ("rate_cost", "int8", nil),
    ]

    static let insert = insertSQL(from: 1) + " RETURNING seq"

    /// The INSERT, its arrays numbered from `$first`, its rows kept only
    /// where `condition` holds.
    static func insertSQL(from first: Int, condition: String? = nil) -> String {
        let names = columns.map(\.name).joined(separator: ", ")
        let selected = columns.map { column in
            column.list.map { empty in
                "CASE WHEN u.\(column.name) IS NULL THEN \(empty) ELSE ARRAY(SELECT json_array_elements_text(u.\(column.name)::json)) END"
            } ?? "u.\(column.name)"
        }.joined(separator: ", ")
        let arrays = columns.enumerated().map { "$\($0.offset + first)::\($0.element.type)[]" }.joined(separator: ", ")
        return """
            INSERT INTO jobs (\(names)) SELECT \(selected) FROM unnest(\(arrays)) AS u(\(names))\(condition.map { " WHERE \($0)" } ?? "")
            ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            """
    }

    var count: Int { seq.count }

    mutating func append(_ job: NewJob) {
        let r = job.record
        payload.append(ByteBuffer(bytes: job.payload))
        id.append(JobRow.clean(r.id))
        seq.append(r.seq)
        queue.append(JobRow.clean(r.queue))
        type.append(JobRow.clean(r.type))
        priority.append(Int64(r.priority))
        state.append(Int64(r.state.rawValue))
        idempotencyKey.append(r.idempotencyKey.map(JobRow.clean))
        lockKeys.append(r.lockKeys.isEmpty ? nil : JobRow.json(r.lockKeys))
        rateKey.append(r.rateKey.map(JobRow.clean))
        maxAttempts.append(Int64(r.maxAttempts))
        attempt.append(Int64(r.attempt))
        timeoutMs.append(r.timeoutMs)
        runAtMs.append(r.runAtMs)
        batchId.append(r.batchId.map(JobRow.clean))
        let labelList = r.labels
        labels.append(labelList.isEmpty ? nil : JobRow.json(labelList.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }))
        run.append(r)
        createdAtMs.append(r.createdAtMs)
        startedAtMs.append(r.startedAtMs)
        finishedAtMs.append(r.finishedAtMs)
        updatedAtMs.append(r.updatedAtMs)
        expireAtMs.append(r.expireAtMs)
        let dependencies = r.dependencies
        dependsOn.append(dependencies.map { JobRow.json($0.jobs) })
        dependsOnBatches.append(dependencies.map { JobRow.json($0.batches) })
        runIfFailed.append(dependencies?.runIfFailed)
        summary.append(r.dependencySummary.map(JobRow.clean))
        rateCost.append(r.rateCost == 1 ? nil : Int64(r.rateCost))
    }

    func bindings() -> PostgresBindings {
        var binds = PostgresBindings(capacity: Self.columns.count)
        append(to: &binds)
        return binds
    }

    func append(to binds: inout PostgresBindings) {
        binds.append(payload)
        binds.append(id)
        binds.append(seq)
        binds.append(queue)
        binds.append(type)
        binds.append(priority)
        binds.append(state)
        binds.append(NullableArray(idempotencyKey))
        binds.append(NullableArray(lockKeys))
        binds.append(NullableArray(rateKey))
        binds.append(maxAttempts)
        binds.append(attempt)
        binds.append(timeoutMs)
        binds.append(runAtMs)
        binds.append(NullableArray(batchId))
        binds.append(NullableArray(labels))
        run.append(to: &binds)
        binds.append(createdAtMs)
        binds.append(NullableArray(startedAtMs))
        binds.append(NullableArray(finishedAtMs))
        binds.append(updatedAtMs)
        binds.append(NullableArray(expireAtMs))
        binds.append(NullableArray(dependsOn))
        binds.append(NullableArray(dependsOnBatches))
        binds.append(NullableArray(runIfFailed))
        binds.append(NullableArray(summary))
        binds.append(NullableArray(rateCost))
    }
}

/// The changing fields of records as columns (`JobRow.changingColumns`), for
/// one UPDATE … FROM unnest(…).
struct UpdateColumns {
    var seq: [Int64] = [], state: [Int64] = [], attempt: [Int64] = [], runAtMs: [Int64] = [], run = RunColumns()
    var startedAtMs: [Int64?] = [], finishedAtMs: [Int64?] = [], updatedAtMs: [Int64] = [], expireAtMs: [Int64?] = []
    var summary: [String?] = []

    static let update = updateSQL(from: 1)

    /// The UPDATE, its arrays numbered from `$first`, its rows changed only
    /// where `condition` holds.
    static func updateSQL(from first: Int, condition: String? = nil) -> String {
        let columns = [("seq", "int8")] + JobRow.changingColumns
        let names = columns.map(\.0).joined(separator: ", ")
        let arrays = columns.enumerated().map { "$\($0.offset + first)::\($0.element.1)[]" }.joined(separator: ", ")
        let sets = JobRow.changingColumns.map { "\($0.name) = u.\($0.name)" }.joined(separator: ", ")
        return "UPDATE jobs SET \(sets) FROM unnest(\(arrays)) AS u(\(names)) WHERE jobs.seq = u.seq\(condition.map { " AND \($0)" } ?? "")"
    }

    mutating func append(_ r: JobRecord) {
        seq.append(r.seq)
        state.append(Int64(r.state.rawValue))
        attempt.append(Int64(r.attempt))
        runAtMs.append(r.runAtMs)
        run.append(r)
        startedAtMs.append(r.startedAtMs)
        finishedAtMs.append(r.finishedAtMs)
        updatedAtMs.append(r.updatedAtMs)
        expireAtMs.append(r.expireAtMs)
        summary.append(r.dependencySummary.map(JobRow.clean))
    }

    func bindings() -> PostgresBindings {
        var binds = PostgresBindings(capacity: 16)
        append(to: &binds)
        return binds
    }

    func append(to binds: inout PostgresBindings) {
        binds.append(seq)
        binds.append(state)
        binds.append(attempt)
        binds.append(runAtMs)
        run.append(to: &binds)
        binds.append(NullableArray(startedAtMs))
        binds.append(NullableArray(finishedAtMs))
        binds.append(updatedAtMs)
        binds.append(NullableArray(expireAtMs))
        binds.append(NullableArray(summary))
    }
}

/// What a job's run sets — progress (fraction, step, message), result,
/// failure (code, message, retryable) — as columns: seven consecutive
/// columns of both an INSERT's and an UPDATE's.
struct RunColumns {
    var progress: [Double] = [], progressStep: [String] = [], progressMessage: [String] = [], result: [ByteBuffer?] = []
    var errorCode: [String?] = [], errorMessage: [String?] = [], errorRetryable: [Bool?] = []

    mutating func append(_ r: JobRecord) {
        let life = r.progress
        progress.append(life.fraction)
        progressStep.append(JobRow.clean(life.step))
        progressMessage.append(JobRow.clean(life.message))
        result.append(r.result.map { ByteBuffer(bytes: $0) })
        let failure = r.failure
        errorCode.append(failure.map { JobRow.clean($0.code) })
        errorMessage.append(failure.map { JobRow.clean($0.message) })
        errorRetryable.append(failure?.retryable)
    }

    func append(to binds: inout PostgresBindings) {
        binds.append(progress)
        binds.append(progressStep)
        binds.append(progressMessage)
        binds.append(NullableArray(result))
        binds.append(NullableArray(errorCode))
        binds.append(NullableArray(errorMessage))
        binds.append(NullableArray(errorRetryable))
    }
}

/// A one-dimensional array parameter whose elements may be NULL, in
/// PostgreSQL's binary array format (postgres-nio encodes arrays of
/// non-optional elements only): dimensions, has-nulls flag, element type,
/// length and lower bound, then each element as its length (-1: NULL) and
/// bytes.
struct NullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable {
    let elements: [Element?]

    init(_ elements: [Element?]) { self.elements = elements }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(elements.contains { $0 == nil } ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count))
        buffer.writeInteger(1, as: Int32.self)
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            let start = buffer.writerIndex
            element.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - start), at: lengthIndex)
        }
    }
}

extension JobRow {
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
