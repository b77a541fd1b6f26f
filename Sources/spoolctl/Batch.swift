import ArgumentParser
import Foundation
import SpoolWire

struct Batch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enqueue every job of a JSON-lines file in one transaction, or none; prints the batch id.",
        discussion: "Each non-empty line is one job: {\"type\": \"render\", \"payload\": {\"prompt\": \"a fox\"}, \"queue\": "
            + "\"images\", \"priority\": 5, \"idempotency_key\": \"k\", \"lock_keys\": [\"gpu\"], \"rate_key\": \"openai\", "
            + "\"max_attempts\": 3, \"timeout_ms\": 60000, \"run_at_ms\": 0, \"labels\": {\"user\": \"ada\"}, "
            + "\"depends_on_items\": [0], \"depends_on\": [\"JOB_ID\"], \"depends_on_batches\": [\"BATCH_ID\"], "
            + "\"run_if_dependencies_fail\": false}. Only \"type\" is required; a \"payload\" that is a string is sent as "
            + "its text, anything else as JSON. depends_on_items names earlier lines, from 0, so a whole flow goes in one file.")

    @OptionGroup var serverOptions: ServerOptions

    @Argument(help: "The JSON-lines file ('-': standard input).")
    var file: String

    @Option(name: .customLong("label"), help: "KEY=VALUE, put on every job of the batch (repeatable).")
    var labels: [String] = []

    @Option(help: "The jobs join the batch of this running job (e.g. \"$SPOOL_JOB_ID\" in a job's command).")
    var parent: String?

    @Option(help: ArgumentHelp("A job, as one line of the file, to run once every job of the batch ended, with the "
                               + "batch's summary in SPOOL_DEPENDENCY_SUMMARY.", valueName: "JSON"))
    var callback: String?

    @Flag(help: "Then watch the batch until every job ends; exit 3 unless all succeed.")
    var watch = false

    func run() async throws {
        let text: Data?
        if file == "-" {
            text = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            text = FileManager.default.contents(atPath: file)
        }
        guard let text else { throw BadInput("cannot read \(file)") }
        var request = EnqueueBatchRequest(jobs: try BatchFile.jobs(in: text, name: file), labels: try parseLabels(labels))
        request.parentId = parent ?? ""
        request.callback = try callback.map { try BatchFile.jobs(in: Data($0.utf8), name: "--callback")[0] }
        let answer = try await withConnection(serverOptions) { try await $0.enqueueBatch(request) }
        output(answer.batchId)
        if let callback = answer.callback { note("spoolctl: callback job \(callback.id)") }
        let deduplicated = answer.jobs.filter(\.deduplicated).count
        note("spoolctl: \(answer.jobs.count) jobs in batch \(answer.batchId)"
             + (deduplicated > 0 ? " (\(deduplicated) matched existing jobs by idempotency key)" : ""))
        if watch {
            var progress = StreamProgressRequest()
            progress.batchId = answer.batchId
            try await ProgressWatcher(serverOptions: serverOptions, request: progress).run()
        }
    }
}

/// Reads the jobs of a JSON-lines batch file; a bad line is refused by number.
enum BatchFile {
    private struct Line: Decodable {
        var type: String
        var payload: Payload?
        var queue: String?
        var priority: Int32?
        var idempotency_key: String?
        var lock_keys: [String]?
        var rate_key: String?
        var max_attempts: Int32?
        var timeout_ms: Int64?
        var run_at_ms: Int64?
        var labels: [String: String]?
        var depends_on: [String]?
        var depends_on_batches: [String]?
        var depends_on_items: [UInt32]?
        var run_if_dependencies_fail: Bool?
        var expire_at_ms: Int64?
        var rate_cost: Int32?
    }

    /// A string payload is its text; any other JSON value is sent as JSON.
    private struct Payload: Decodable {
        var bytes: [UInt8]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                bytes = Array(text.utf8)
            } else {
                bytes = Array(try JSONEncoder().encode(try container.decode(JSONValue.self)))
            }
        }
    }

    static func jobs(in data: Data, name: String) throws -> [JobSpec] {
        var jobs: [JobSpec] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parsed: Line
            do {
                parsed = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            } catch {
                throw BadInput("\(name):\(index + 1): not a job: \(describe(error))")
            }
            var job = JobSpec()
            job.type = parsed.type
            job.payload = parsed.payload?.bytes ?? []
            job.queue = parsed.queue ?? ""
            job.priority = parsed.priority ?? 0
            job.idempotencyKey = parsed.idempotency_key ?? ""
            job.lockKeys = parsed.lock_keys ?? []
            job.rateKey = parsed.rate_key ?? ""
            job.maxAttempts = parsed.max_attempts ?? 0
            job.timeoutMs = parsed.timeout_ms ?? 0
            job.runAtMs = parsed.run_at_ms ?? 0
            job.labels = parsed.labels ?? [:]
            job.dependsOn = parsed.depends_on ?? []
            job.dependsOnBatches = parsed.depends_on_batches ?? []
            job.dependsOnItems = parsed.depends_on_items ?? []
            job.runIfDependenciesFail = parsed.run_if_dependencies_fail ?? false
            job.expireAtMs = parsed.expire_at_ms ?? 0
            job.rateCost = parsed.rate_cost ?? 0
            jobs.append(job)
        }
        guard !jobs.isEmpty else { throw BadInput("\(name): no jobs in the file") }
        return jobs
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "\"\(key.stringValue)\" is required"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "\(error)"
        }
    }
}

/// Any JSON value, decoded and encoded again as it was.
enum JSONValue: Codable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
