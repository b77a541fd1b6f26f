import ArgumentParser
import Foundation
import SpoolWire

struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enqueue one job; prints its id (then its progress with --watch).")

    @OptionGroup var serverOptions: ServerOptions

    @Argument(help: "The job type, e.g. spool.sleep or a configured exec type.")
    var type: String

    @Option(help: "The payload, as text (e.g. JSON).")
    var payload: String?

    @Option(help: "Read the payload from this file ('-': standard input).")
    var payloadFile: String?

    @Option(help: "The queue (default: the type's queue, else \"default\").")
    var queue = ""

    @Option(help: "Higher runs first.")
    var priority: Int32 = 0

    @Option(help: "A job with the same key already kept is returned instead of a new one.")
    var idempotencyKey = ""

    @Option(name: .customLong("lock"), help: "A lock key the job must hold to run (repeatable).")
    var locks: [String] = []

    @Option(help: "A configured rate key whose bucket the job draws from.")
    var rateKey = ""

    @Option(help: "Attempts before the job fails (default: the queue's).")
    var maxAttempts: Int32 = 0

    @Option(help: "Seconds per attempt (default: the queue's).")
    var timeout: Double?

    @Option(help: "Run no sooner than this many seconds from now.")
    var delay: Double?

    @Option(help: "Fail it (error code \"expired\") unless it has started within this many seconds from now.")
    var expireIn: Double?

    @Option(name: .customLong("label"), help: "KEY=VALUE, returned with the job (repeatable).")
    var labels: [String] = []

    @Option(help: "Tokens the job takes from its rate key's bucket (a job making 50 calls: 50). Default 1.")
    var rateCost: Int32 = 0

    @Option(name: .customLong("depends-on"), help: "A job that must succeed before this one runs (repeatable).")
    var dependsOn: [String] = []

    @Option(name: .customLong("depends-on-batch"), help: "A batch whose every job must succeed before this one runs (repeatable).")
    var dependsOnBatches: [String] = []

    @Flag(help: "Run once the dependencies ended, even if one failed or was cancelled (else it is cancelled).")
    var runIfDependenciesFail = false

    @Option(help: "Join the batch of this running job (e.g. \"$SPOOL_JOB_ID\" in a job's command).")
    var parent: String?

    @Flag(help: "Then watch the job until it ends; exit 3 unless it succeeds.")
    var watch = false

    func run() async throws {
        var job = JobSpec()
        job.type = type
        job.payload = try readPayload(text: payload, file: payloadFile)
        job.queue = queue
        job.priority = priority
        job.idempotencyKey = idempotencyKey
        job.lockKeys = locks
        job.rateKey = rateKey
        job.maxAttempts = maxAttempts
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        job.timeoutMs = try milliseconds(timeout, "--timeout")
        job.runAtMs = try delay.map { nowMs + (try milliseconds($0, "--delay")) } ?? 0
        job.expireAtMs = try expireIn.map { nowMs + (try milliseconds($0, "--expire-in")) } ?? 0
        job.labels = try parseLabels(labels)
        job.dependsOn = dependsOn
        job.rateCost = rateCost
        job.dependsOnBatches = dependsOnBatches
        job.runIfDependenciesFail = runIfDependenciesFail
        job.parentId = parent ?? ""
        let answer = try await withConnection(serverOptions) { try await $0.enqueue(job) }
        guard let enqueued = answer.job else { throw Failure(.init(.internal, "the answer has no job")) }
        output(enqueued.id)
        if answer.deduplicated { note("spoolctl: the idempotency key matched job \(enqueued.id); nothing new was enqueued") }
        if watch {
            var request = StreamProgressRequest()
            request.jobIds = [enqueued.id]
            try await ProgressWatcher(serverOptions: serverOptions, request: request).run()
        }
    }
}

/// Seconds from a flag as milliseconds: up to ten years, so that no value traps.
func milliseconds(_ seconds: Double?, _ flag: String) throws -> Int64 {
    guard let seconds else { return 0 }
    guard seconds.isFinite, (0...315_360_000).contains(seconds) else {
        throw ValidationError("\(flag) must be from 0 to 315360000 seconds (ten years), not \(seconds)")
    }
    return Int64((seconds * 1000).rounded())
}

func readPayload(text: String?, file: String?) throws -> [UInt8] {
    switch (text, file) {
    case (.some, .some): throw ValidationError("give --payload or --payload-file, not both")
    case (let text?, nil): return Array(text.utf8)
    case (nil, "-"): return Array(FileHandle.standardInput.readDataToEndOfFile())
    case (nil, let path?):
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BadInput("--payload-file: cannot read \(path)")
        }
        return Array(data)
    case (nil, nil): return []
    }
}

func parseLabels(_ labels: [String]) throws -> [String: String] {
    var parsed: [String: String] = [:]
    for label in labels {
        guard let equals = label.firstIndex(of: "="), equals != label.startIndex else {
            throw ValidationError("--label must be KEY=VALUE (got \"\(label)\")")
        }
        parsed[String(label[..<equals])] = String(label[label.index(after: equals)...])
    }
    return parsed
}
