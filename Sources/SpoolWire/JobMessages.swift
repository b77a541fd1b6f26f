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
    }
}

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
    }
}
