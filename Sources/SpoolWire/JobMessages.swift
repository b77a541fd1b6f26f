#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SpoolProtoC

// spool.v1 job messages (proto/spool/v1/queue.proto). Times are int64
// milliseconds since the Unix epoch, UTC; zero means "not set".

/// spool.v1.JobState
public enum WireJobState: UInt32, Sendable, CaseIterable {
    case unspecified = 0
    case scheduled = 1
    case queued = 2
    case running = 3
    case succeeded = 4
    case failed = 5
    case cancelled = 6
    case blocked = 7

    init(_ c: Spool__V1__JobState) { self = WireJobState(rawValue: c.rawValue) ?? .unspecified }
    var c: Spool__V1__JobState { Spool__V1__JobState(rawValue: rawValue) }
}

/// spool.v1.JobSpec: what a caller asks to run.
public struct JobSpec: Equatable, Sendable, ProtobufCBridged {
    public var queue = ""
    public var type = ""
    public var payload: [UInt8] = []
    public var priority: Int32 = 0
    public var idempotencyKey = ""
    public var lockKeys: [String] = []
    public var rateKey = ""
    public var maxAttempts: Int32 = 0
    public var timeoutMs: Int64 = 0
    public var runAtMs: Int64 = 0
    public var labels: [String: String] = [:]
    public var expireAtMs: Int64 = 0
    public var dependsOn: [String] = []
    public var dependsOnBatches: [String] = []
    public var dependsOnItems: [UInt32] = []
    public var runIfDependenciesFail = false
    public var parentId = ""
    public var rateCost: Int32 = 0

    public init() {}

    typealias CMessage = Spool__V1__JobSpec
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__job_spec__init }

    init(c: UnsafePointer<CMessage>) {
        let m = c.pointee
        queue = CRead.string(m.queue)
        type = CRead.string(m.type)
        payload = CRead.bytes(m.payload)
        priority = m.priority
        idempotencyKey = CRead.string(m.idempotency_key)
        lockKeys = CRead.strings(m.n_lock_keys, m.lock_keys)
        rateKey = CRead.string(m.rate_key)
        maxAttempts = m.max_attempts
        timeoutMs = m.timeout_ms
        runAtMs = m.run_at_ms
        labels = CRead.map(m.n_labels, m.labels, key: \.key, value: \.value)
        expireAtMs = m.expire_at_ms
        dependsOn = CRead.strings(m.n_depends_on, m.depends_on)
        dependsOnBatches = CRead.strings(m.n_depends_on_batches, m.depends_on_batches)
        dependsOnItems = CRead.array(m.n_depends_on_items, m.depends_on_items) { $0 }
        runIfDependenciesFail = m.run_if_dependencies_fail != 0
        parentId = CRead.string(m.parent_id)
        rateCost = m.rate_cost
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.queue = arena.string(queue)
        c.pointee.type = arena.string(type)
        c.pointee.payload = arena.bytes(payload)
        c.pointee.priority = priority
        c.pointee.idempotency_key = arena.string(idempotencyKey)
        c.pointee.n_lock_keys = lockKeys.count
        c.pointee.lock_keys = arena.strings(lockKeys)
        c.pointee.rate_key = arena.string(rateKey)
        c.pointee.max_attempts = maxAttempts
        c.pointee.timeout_ms = timeoutMs
        c.pointee.run_at_ms = runAtMs
        (c.pointee.n_labels, c.pointee.labels) = arena.map(
            labels, initialize: spool__v1__job_spec__labels_entry__init, key: \.key, value: \.value)
        c.pointee.expire_at_ms = expireAtMs
        c.pointee.n_depends_on = dependsOn.count
        c.pointee.depends_on = arena.strings(dependsOn)
        c.pointee.n_depends_on_batches = dependsOnBatches.count
        c.pointee.depends_on_batches = arena.strings(dependsOnBatches)
        c.pointee.n_depends_on_items = dependsOnItems.count
        c.pointee.depends_on_items = arena.array(dependsOnItems)
        c.pointee.run_if_dependencies_fail = runIfDependenciesFail ? 1 : 0
        c.pointee.parent_id = arena.string(parentId)
        c.pointee.rate_cost = rateCost
    }
}

/// spool.v1.WaitReason
public struct WaitReason: Equatable, Sendable, ProtobufCBridged {
    public enum Kind: UInt32, Sendable, CaseIterable {
        case unspecified = 0
        case runAt = 1
        case behind = 2
        case queueConcurrency = 3
        case workers = 4
        case lock = 5
        case rate = 6
        case paused = 7
        case noWorker = 8
        case dependencies = 9

        /// The proto's value name: "KIND_LOCK".
        public var protoName: String {
            switch self {
            case .unspecified: "KIND_UNSPECIFIED"
            case .runAt: "KIND_RUN_AT"
            case .behind: "KIND_BEHIND"
            case .queueConcurrency: "KIND_QUEUE_CONCURRENCY"
            case .workers: "KIND_WORKERS"
            case .lock: "KIND_LOCK"
            case .rate: "KIND_RATE"
            case .paused: "KIND_PAUSED"
            case .noWorker: "KIND_NO_WORKER"
            case .dependencies: "KIND_DEPENDENCIES"
            }
        }
    }

    public var kind = Kind.unspecified
    public var text = ""
    public var key = ""
    public var holderJobIds: [String] = []
    public var ahead: Int64 = 0
    public var untilMs: Int64 = 0

    public init() {}

    typealias CMessage = Spool__V1__WaitReason
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__wait_reason__init }

    init(c: UnsafePointer<CMessage>) {
        kind = Kind(rawValue: c.pointee.kind.rawValue) ?? .unspecified
        text = CRead.string(c.pointee.text)
        key = CRead.string(c.pointee.key)
        holderJobIds = CRead.strings(c.pointee.n_holder_job_ids, c.pointee.holder_job_ids)
        ahead = c.pointee.ahead
        untilMs = c.pointee.until_ms
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.kind = Spool__V1__WaitReason__Kind(rawValue: kind.rawValue)
        c.pointee.text = arena.string(text)
        c.pointee.key = arena.string(key)
        c.pointee.n_holder_job_ids = holderJobIds.count
        c.pointee.holder_job_ids = arena.strings(holderJobIds)
        c.pointee.ahead = ahead
        c.pointee.until_ms = untilMs
    }
}

extension WaitReason.Kind: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(protoName)
    }
}

extension WaitReason: Encodable {}

/// spool.v1.JobProgress
public struct JobProgress: Equatable, Sendable, ProtobufCBridged {
    public var fraction = 0.0
    public var step = ""
    public var message = ""

    public init(fraction: Double = 0, step: String = "", message: String = "") {
        self.fraction = fraction
        self.step = step
        self.message = message
    }

    typealias CMessage = Spool__V1__JobProgress
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__job_progress__init }

    init(c: UnsafePointer<CMessage>) {
        fraction = c.pointee.fraction
        step = CRead.string(c.pointee.step)
        message = CRead.string(c.pointee.message)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.fraction = fraction
        c.pointee.step = arena.string(step)
        c.pointee.message = arena.string(message)
    }
}

/// spool.v1.JobError
public struct JobError: Equatable, Sendable, ProtobufCBridged {
    public var code = ""
    public var message = ""
    public var retryable = false

    public init(code: String = "", message: String = "", retryable: Bool = false) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }

    typealias CMessage = Spool__V1__JobError
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__job_error__init }

    init(c: UnsafePointer<CMessage>) {
        code = CRead.string(c.pointee.code)
        message = CRead.string(c.pointee.message)
        retryable = c.pointee.retryable != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.code = arena.string(code)
        c.pointee.message = arena.string(message)
        c.pointee.retryable = retryable ? 1 : 0
    }
}

/// spool.v1.Job: a job as Spool sees it now.
public struct Job: Equatable, Sendable, ProtobufCBridged {
    public var id = ""
    public var queue = ""
    public var type = ""
    public var state = WireJobState.unspecified
    public var priority: Int32 = 0
    public var attempt: Int32 = 0
    public var maxAttempts: Int32 = 0
    public var position: Int64 = 0
    public var progress: JobProgress?
    public var result: [UInt8] = []
    public var error: JobError?
    public var batchId = ""
    public var idempotencyKey = ""
    public var lockKeys: [String] = []
    public var rateKey = ""
    public var labels: [String: String] = [:]
    public var runAtMs: Int64 = 0
    public var createdAtMs: Int64 = 0
    public var startedAtMs: Int64 = 0
    public var finishedAtMs: Int64 = 0
    public var updatedAtMs: Int64 = 0
    public var etaMs: Int64 = 0
    public var timeoutMs: Int64 = 0
    public var wait: WaitReason?
    public var expireAtMs: Int64 = 0
    public var dependsOn: [String] = []
    public var dependsOnBatches: [String] = []
    public var runIfDependenciesFail = false
    public var dependencySummary = ""
    public var rateCost: Int32 = 0

    public init() {}

    typealias CMessage = Spool__V1__Job
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__job__init }

    init(c: UnsafePointer<CMessage>) {
        let m = c.pointee
        id = CRead.string(m.id)
        queue = CRead.string(m.queue)
        type = CRead.string(m.type)
        state = WireJobState(m.state)
        priority = m.priority
        attempt = m.attempt
        maxAttempts = m.max_attempts
        position = m.position
        progress = CRead.message(m.progress, as: JobProgress.self)
        result = CRead.bytes(m.result)
        error = CRead.message(m.error, as: JobError.self)
        batchId = CRead.string(m.batch_id)
        idempotencyKey = CRead.string(m.idempotency_key)
        lockKeys = CRead.strings(m.n_lock_keys, m.lock_keys)
        rateKey = CRead.string(m.rate_key)
        labels = CRead.map(m.n_labels, m.labels, key: \.key, value: \.value)
        runAtMs = m.run_at_ms
        createdAtMs = m.created_at_ms
        startedAtMs = m.started_at_ms
        finishedAtMs = m.finished_at_ms
        updatedAtMs = m.updated_at_ms
        etaMs = m.eta_ms
        timeoutMs = m.timeout_ms
        wait = CRead.message(m.wait, as: WaitReason.self)
        expireAtMs = m.expire_at_ms
        dependsOn = CRead.strings(m.n_depends_on, m.depends_on)
        dependsOnBatches = CRead.strings(m.n_depends_on_batches, m.depends_on_batches)
        runIfDependenciesFail = m.run_if_dependencies_fail != 0
        dependencySummary = CRead.string(m.dependency_summary)
        rateCost = m.rate_cost
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.id = arena.string(id)
        c.pointee.queue = arena.string(queue)
        c.pointee.type = arena.string(type)
        c.pointee.state = state.c
        c.pointee.priority = priority
        c.pointee.attempt = attempt
        c.pointee.max_attempts = maxAttempts
        c.pointee.position = position
        c.pointee.progress = progress.map(arena.message)
        c.pointee.result = arena.bytes(result)
        c.pointee.error = error.map(arena.message)
        c.pointee.batch_id = arena.string(batchId)
        c.pointee.idempotency_key = arena.string(idempotencyKey)
        c.pointee.n_lock_keys = lockKeys.count
        c.pointee.lock_keys = arena.strings(lockKeys)
        c.pointee.rate_key = arena.string(rateKey)
        (c.pointee.n_labels, c.pointee.labels) = arena.map(
            labels, initialize: spool__v1__job__labels_entry__init, key: \.key, value: \.value)
        c.pointee.run_at_ms = runAtMs
        c.pointee.created_at_ms = createdAtMs
        c.pointee.started_at_ms = startedAtMs
        c.pointee.finished_at_ms = finishedAtMs
        c.pointee.updated_at_ms = updatedAtMs
        c.pointee.eta_ms = etaMs
        c.pointee.timeout_ms = timeoutMs
        c.pointee.wait = wait.map(arena.message)
        c.pointee.expire_at_ms = expireAtMs
        c.pointee.n_depends_on = dependsOn.count
        c.pointee.depends_on = arena.strings(dependsOn)
        c.pointee.n_depends_on_batches = dependsOnBatches.count
        c.pointee.depends_on_batches = arena.strings(dependsOnBatches)
        c.pointee.run_if_dependencies_fail = runIfDependenciesFail ? 1 : 0
        c.pointee.dependency_summary = arena.string(dependencySummary)
        c.pointee.rate_cost = rateCost
    }
}

// MARK: JSON (the HTTP face: docs/http.md)
//
// Field names are the proto's JSON names; enums are their value names;
// bytes are base64; 64-bit integers are JSON numbers (every one Spool sends
// fits in 2^53); unset messages are left out.

extension WireJobState: Encodable {
    /// The proto's value name: "JOB_STATE_QUEUED".
    public var protoName: String {
        switch self {
        case .unspecified: "JOB_STATE_UNSPECIFIED"
        case .scheduled: "JOB_STATE_SCHEDULED"
        case .queued: "JOB_STATE_QUEUED"
        case .running: "JOB_STATE_RUNNING"
        case .succeeded: "JOB_STATE_SUCCEEDED"
        case .failed: "JOB_STATE_FAILED"
        case .cancelled: "JOB_STATE_CANCELLED"
        case .blocked: "JOB_STATE_BLOCKED"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(protoName)
    }
}

extension JobProgress: Encodable {}
extension JobError: Encodable {}

extension Job: Encodable {
    private enum CodingKeys: String, CodingKey {
        case id, queue, type, state, priority, attempt, maxAttempts, position, progress, result, error, batchId,
             idempotencyKey, lockKeys, rateKey, labels, runAtMs, createdAtMs, startedAtMs, finishedAtMs, updatedAtMs,
             etaMs, timeoutMs, wait, expireAtMs, dependsOn, dependsOnBatches, runIfDependenciesFail, dependencySummary, rateCost
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(queue, forKey: .queue)
        try c.encode(type, forKey: .type)
        try c.encode(state, forKey: .state)
        try c.encode(priority, forKey: .priority)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encode(position, forKey: .position)
        try c.encodeIfPresent(progress, forKey: .progress)
        try c.encode(Data(result).base64EncodedString(), forKey: .result)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encode(batchId, forKey: .batchId)
        try c.encode(idempotencyKey, forKey: .idempotencyKey)
        try c.encode(lockKeys, forKey: .lockKeys)
        try c.encode(rateKey, forKey: .rateKey)
        try c.encode(labels, forKey: .labels)
        try c.encode(runAtMs, forKey: .runAtMs)
        try c.encode(createdAtMs, forKey: .createdAtMs)
        try c.encode(startedAtMs, forKey: .startedAtMs)
        try c.encode(finishedAtMs, forKey: .finishedAtMs)
        try c.encode(updatedAtMs, forKey: .updatedAtMs)
        try c.encode(etaMs, forKey: .etaMs)
        try c.encode(timeoutMs, forKey: .timeoutMs)
        try c.encodeIfPresent(wait, forKey: .wait)
        try c.encode(expireAtMs, forKey: .expireAtMs)
        try c.encode(dependsOn, forKey: .dependsOn)
        try c.encode(dependsOnBatches, forKey: .dependsOnBatches)
        try c.encode(runIfDependenciesFail, forKey: .runIfDependenciesFail)
        try c.encode(dependencySummary, forKey: .dependencySummary)
        try c.encode(rateCost, forKey: .rateCost)
    }
}

extension JobSpec: Decodable {
    private enum CodingKeys: String, CodingKey {
        case queue, type, payload, priority, idempotencyKey, lockKeys, rateKey, maxAttempts, timeoutMs, runAtMs, labels,
             expireAtMs, dependsOn, dependsOnBatches, dependsOnItems, runIfDependenciesFail, parentId, rateCost
    }

    /// Every field may be left out (its zero value); `payload` is base64.
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        queue = try c.decodeIfPresent(String.self, forKey: .queue) ?? ""
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? ""
        if let text = try c.decodeIfPresent(String.self, forKey: .payload) {
            guard let bytes = Data(base64Encoded: text) else {
                throw DecodingError.dataCorruptedError(forKey: .payload, in: c, debugDescription: "payload is not valid base64")
            }
            payload = Array(bytes)
        }
        priority = try c.decodeIfPresent(Int32.self, forKey: .priority) ?? 0
        idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey) ?? ""
        lockKeys = try c.decodeIfPresent([String].self, forKey: .lockKeys) ?? []
        rateKey = try c.decodeIfPresent(String.self, forKey: .rateKey) ?? ""
        maxAttempts = try c.decodeIfPresent(Int32.self, forKey: .maxAttempts) ?? 0
        timeoutMs = try c.decodeIfPresent(Int64.self, forKey: .timeoutMs) ?? 0
        runAtMs = try c.decodeIfPresent(Int64.self, forKey: .runAtMs) ?? 0
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        expireAtMs = try c.decodeIfPresent(Int64.self, forKey: .expireAtMs) ?? 0
        dependsOn = try c.decodeIfPresent([String].self, forKey: .dependsOn) ?? []
        dependsOnBatches = try c.decodeIfPresent([String].self, forKey: .dependsOnBatches) ?? []
        dependsOnItems = try c.decodeIfPresent([UInt32].self, forKey: .dependsOnItems) ?? []
        runIfDependenciesFail = try c.decodeIfPresent(Bool.self, forKey: .runIfDependenciesFail) ?? false
        parentId = try c.decodeIfPresent(String.self, forKey: .parentId) ?? ""
        rateCost = try c.decodeIfPresent(Int32.self, forKey: .rateCost) ?? 0
    }
}
