import SpoolProtoC

// The requests and responses of spool.v1.JobQueue, and what they carry.

/// spool.v1.EnqueueRequest
public struct EnqueueRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var job: JobSpec?

    public init(job: JobSpec? = nil) { self.job = job }

    typealias CMessage = Spool__V1__EnqueueRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__enqueue_request__init }
    init(c: UnsafePointer<CMessage>) { job = CRead.message(c.pointee.job, as: JobSpec.self) }
    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) { c.pointee.job = job.map(arena.message) }
}

/// spool.v1.EnqueueResponse
public struct EnqueueResponse: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var job: Job?
    public var deduplicated = false

    public init(job: Job? = nil, deduplicated: Bool = false) {
        self.job = job
        self.deduplicated = deduplicated
    }

    typealias CMessage = Spool__V1__EnqueueResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__enqueue_response__init }

    init(c: UnsafePointer<CMessage>) {
        job = CRead.message(c.pointee.job, as: Job.self)
        deduplicated = c.pointee.deduplicated != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job = job.map(arena.message)
        c.pointee.deduplicated = deduplicated ? 1 : 0
    }
}

/// spool.v1.EnqueueBatchRequest
public struct EnqueueBatchRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var jobs: [JobSpec] = []
    public var labels: [String: String] = [:]
    public var idempotencyKey = ""
    public var callback: JobSpec?
    public var parentId = ""

    public init(jobs: [JobSpec] = [], labels: [String: String] = [:], callback: JobSpec? = nil, parentId: String = "") {
        self.jobs = jobs
        self.labels = labels
        self.callback = callback
        self.parentId = parentId
    }

    typealias CMessage = Spool__V1__EnqueueBatchRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__enqueue_batch_request__init }

    init(c: UnsafePointer<CMessage>) {
        jobs = CRead.messages(c.pointee.n_jobs, c.pointee.jobs, as: JobSpec.self)
        labels = CRead.map(c.pointee.n_labels, c.pointee.labels, key: \.key, value: \.value)
        idempotencyKey = CRead.string(c.pointee.idempotency_key)
        callback = CRead.message(c.pointee.callback, as: JobSpec.self)
        parentId = CRead.string(c.pointee.parent_id)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.n_jobs = jobs.count
        c.pointee.jobs = arena.messages(jobs)
        (c.pointee.n_labels, c.pointee.labels) = arena.map(
            labels, initialize: spool__v1__enqueue_batch_request__labels_entry__init, key: \.key, value: \.value)
        c.pointee.idempotency_key = arena.string(idempotencyKey)
        c.pointee.callback = callback.map(arena.message)
        c.pointee.parent_id = arena.string(parentId)
    }
}

/// spool.v1.EnqueuedJob
public struct EnqueuedJob: Equatable, Sendable, ProtobufCBridged {
    public var id = ""
    public var state = WireJobState.unspecified
    public var deduplicated = false

    public init(id: String = "", state: WireJobState = .unspecified, deduplicated: Bool = false) {
        self.id = id
        self.state = state
        self.deduplicated = deduplicated
    }

    typealias CMessage = Spool__V1__EnqueuedJob
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__enqueued_job__init }

    init(c: UnsafePointer<CMessage>) {
        id = CRead.string(c.pointee.id)
        state = WireJobState(c.pointee.state)
        deduplicated = c.pointee.deduplicated != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.id = arena.string(id)
        c.pointee.state = state.c
        c.pointee.deduplicated = deduplicated ? 1 : 0
    }
}

/// spool.v1.EnqueueBatchResponse
public struct EnqueueBatchResponse: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var batchId = ""
    public var jobs: [EnqueuedJob] = []
    public var deduplicated = false
    public var callback: EnqueuedJob?

    public init(batchId: String = "", jobs: [EnqueuedJob] = [], deduplicated: Bool = false, callback: EnqueuedJob? = nil) {
        self.batchId = batchId
        self.jobs = jobs
        self.deduplicated = deduplicated
        self.callback = callback
    }

    typealias CMessage = Spool__V1__EnqueueBatchResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__enqueue_batch_response__init }

    init(c: UnsafePointer<CMessage>) {
        batchId = CRead.string(c.pointee.batch_id)
        jobs = CRead.messages(c.pointee.n_jobs, c.pointee.jobs, as: EnqueuedJob.self)
        deduplicated = c.pointee.deduplicated != 0
        callback = CRead.message(c.pointee.callback, as: EnqueuedJob.self)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.batch_id = arena.string(batchId)
        c.pointee.n_jobs = jobs.count
        c.pointee.jobs = arena.messages(jobs)
        c.pointee.deduplicated = deduplicated ? 1 : 0
        c.pointee.callback = callback.map(arena.message)
    }
}

/// spool.v1.CancelRequest: exactly one of jobId and batchId.
public struct CancelRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var jobId = ""
    public var batchId = ""
    public var reason = ""

    public init(jobId: String = "", batchId: String = "", reason: String = "") {
        self.jobId = jobId
        self.batchId = batchId
        self.reason = reason
    }

    typealias CMessage = Spool__V1__CancelRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__cancel_request__init }

    init(c: UnsafePointer<CMessage>) {
        jobId = CRead.string(c.pointee.job_id)
        batchId = CRead.string(c.pointee.batch_id)
        reason = CRead.string(c.pointee.reason)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job_id = arena.string(jobId)
        c.pointee.batch_id = arena.string(batchId)
        c.pointee.reason = arena.string(reason)
    }
}

/// spool.v1.CancelResponse
public struct CancelResponse: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var jobs: [Job] = []

    public init(jobs: [Job] = []) { self.jobs = jobs }

    typealias CMessage = Spool__V1__CancelResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__cancel_response__init }
    init(c: UnsafePointer<CMessage>) { jobs = CRead.messages(c.pointee.n_jobs, c.pointee.jobs, as: Job.self) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.n_jobs = jobs.count
        c.pointee.jobs = arena.messages(jobs)
    }
}

/// spool.v1.StreamProgressRequest: one selection (job ids, a batch, a queue, or all queues).
public struct StreamProgressRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var jobIds: [String] = []
    public var batchId = ""
    public var queue = ""
    public var afterSeq: UInt64 = 0
    public var positionIntervalMs: UInt32 = 0
    public var allQueues = false

    public init() {}

    typealias CMessage = Spool__V1__StreamProgressRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__stream_progress_request__init }

    init(c: UnsafePointer<CMessage>) {
        jobIds = CRead.strings(c.pointee.n_job_ids, c.pointee.job_ids)
        batchId = CRead.string(c.pointee.batch_id)
        queue = CRead.string(c.pointee.queue)
        afterSeq = c.pointee.after_seq
        positionIntervalMs = c.pointee.position_interval_ms
        allQueues = c.pointee.all_queues != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.n_job_ids = jobIds.count
        c.pointee.job_ids = arena.strings(jobIds)
        c.pointee.batch_id = arena.string(batchId)
        c.pointee.queue = arena.string(queue)
        c.pointee.after_seq = afterSeq
        c.pointee.position_interval_ms = positionIntervalMs
        c.pointee.all_queues = allQueues ? 1 : 0
    }
}

/// spool.v1.JobCounts
public struct JobCounts: Equatable, Sendable, ProtobufCBridged {
    public var scheduled: Int64 = 0
    public var queued: Int64 = 0
    public var running: Int64 = 0
    public var succeeded: Int64 = 0
    public var failed: Int64 = 0
    public var cancelled: Int64 = 0
    public var blocked: Int64 = 0

    public init() {}

    typealias CMessage = Spool__V1__JobCounts
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__job_counts__init }

    init(c: UnsafePointer<CMessage>) {
        scheduled = c.pointee.scheduled
        queued = c.pointee.queued
        running = c.pointee.running
        succeeded = c.pointee.succeeded
        failed = c.pointee.failed
        cancelled = c.pointee.cancelled
        blocked = c.pointee.blocked
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.scheduled = scheduled
        c.pointee.queued = queued
        c.pointee.running = running
        c.pointee.succeeded = succeeded
        c.pointee.failed = failed
        c.pointee.cancelled = cancelled
        c.pointee.blocked = blocked
    }
}

/// spool.v1.BatchSummary
public struct BatchSummary: Equatable, Sendable, ProtobufCBridged {
    public var batchId = ""
    public var total: Int64 = 0
    public var counts: JobCounts?
    public var percent = 0.0
    public var etaMs: Int64 = 0

    public init() {}

    typealias CMessage = Spool__V1__BatchSummary
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__batch_summary__init }

    init(c: UnsafePointer<CMessage>) {
        batchId = CRead.string(c.pointee.batch_id)
        total = c.pointee.total
        counts = CRead.message(c.pointee.counts, as: JobCounts.self)
        percent = c.pointee.percent
        etaMs = c.pointee.eta_ms
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.batch_id = arena.string(batchId)
        c.pointee.total = total
        c.pointee.counts = counts.map(arena.message)
        c.pointee.percent = percent
        c.pointee.eta_ms = etaMs
    }
}

/// spool.v1.ProgressEvent
public struct ProgressEvent: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public enum Kind: UInt32, Sendable, CaseIterable {
        case unspecified = 0
        case snapshot = 1
        case state = 2
        case progress = 3
        case position = 4
    }

    public var seq: UInt64 = 0
    public var timeMs: Int64 = 0
    public var kind = Kind.unspecified
    public var job: Job?
    public var note = ""
    public var batch: BatchSummary?

    public init() {}

    typealias CMessage = Spool__V1__ProgressEvent
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__progress_event__init }

    init(c: UnsafePointer<CMessage>) {
        seq = c.pointee.seq
        timeMs = c.pointee.time_ms
        kind = Kind(rawValue: c.pointee.kind.rawValue) ?? .unspecified
        job = CRead.message(c.pointee.job, as: Job.self)
        note = CRead.string(c.pointee.note)
        batch = CRead.message(c.pointee.batch, as: BatchSummary.self)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.seq = seq
        c.pointee.time_ms = timeMs
        c.pointee.kind = Spool__V1__ProgressEvent__Kind(rawValue: kind.rawValue)
        c.pointee.job = job.map(arena.message)
        c.pointee.note = arena.string(note)
        c.pointee.batch = batch.map(arena.message)
    }
}

/// spool.v1.GetStatusRequest
public struct GetStatusRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var queues: [String] = []
    public var jobIds: [String] = []
    public var batchId = ""
    public var onlySelected = false

    public init(queues: [String] = [], jobIds: [String] = [], batchId: String = "", onlySelected: Bool = false) {
        self.queues = queues
        self.jobIds = jobIds
        self.batchId = batchId
        self.onlySelected = onlySelected
    }

    typealias CMessage = Spool__V1__GetStatusRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__get_status_request__init }

    init(c: UnsafePointer<CMessage>) {
        queues = CRead.strings(c.pointee.n_queues, c.pointee.queues)
        jobIds = CRead.strings(c.pointee.n_job_ids, c.pointee.job_ids)
        batchId = CRead.string(c.pointee.batch_id)
        onlySelected = c.pointee.only_selected != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.n_queues = queues.count
        c.pointee.queues = arena.strings(queues)
        c.pointee.n_job_ids = jobIds.count
        c.pointee.job_ids = arena.strings(jobIds)
        c.pointee.batch_id = arena.string(batchId)
        c.pointee.only_selected = onlySelected ? 1 : 0
    }
}

/// spool.v1.QueueStatus
public struct QueueStatus: Equatable, Sendable, ProtobufCBridged {
    public var name = ""
    public var counts: JobCounts?
    public var concurrency: Int32 = 0
    public var maxDepth: Int64 = 0
    public var throughputPerMinute = 0.0
    public var meanRunMs: Int64 = 0
    public var runningJobIds: [String] = []
    public var paused = false

    public init() {}

    typealias CMessage = Spool__V1__QueueStatus
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__queue_status__init }

    init(c: UnsafePointer<CMessage>) {
        name = CRead.string(c.pointee.name)
        counts = CRead.message(c.pointee.counts, as: JobCounts.self)
        concurrency = c.pointee.concurrency
        maxDepth = c.pointee.max_depth
        throughputPerMinute = c.pointee.throughput_per_minute
        meanRunMs = c.pointee.mean_run_ms
        runningJobIds = CRead.strings(c.pointee.n_running_job_ids, c.pointee.running_job_ids)
        paused = c.pointee.paused != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.name = arena.string(name)
        c.pointee.counts = counts.map(arena.message)
        c.pointee.concurrency = concurrency
        c.pointee.max_depth = maxDepth
        c.pointee.throughput_per_minute = throughputPerMinute
        c.pointee.mean_run_ms = meanRunMs
        c.pointee.n_running_job_ids = runningJobIds.count
        c.pointee.running_job_ids = arena.strings(runningJobIds)
        c.pointee.paused = paused ? 1 : 0
    }
}

/// spool.v1.WorkerSlot
public struct WorkerSlot: Equatable, Sendable, ProtobufCBridged {
    public var index: Int32 = 0
    public var busy = false
    public var jobId = ""
    public var queue = ""
    public var sinceMs: Int64 = 0

    public init() {}

    typealias CMessage = Spool__V1__WorkerSlot
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__worker_slot__init }

    init(c: UnsafePointer<CMessage>) {
        index = c.pointee.index
        busy = c.pointee.busy != 0
        jobId = CRead.string(c.pointee.job_id)
        queue = CRead.string(c.pointee.queue)
        sinceMs = c.pointee.since_ms
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.index = index
        c.pointee.busy = busy ? 1 : 0
        c.pointee.job_id = arena.string(jobId)
        c.pointee.queue = arena.string(queue)
        c.pointee.since_ms = sinceMs
    }
}

/// spool.v1.RateLimiterStatus
public struct RateLimiterStatus: Equatable, Sendable, ProtobufCBridged {
    public var key = ""
    public var ratePerSecond = 0.0
    public var configuredRatePerSecond = 0.0
    public var burst = 0.0
    public var tokens = 0.0
    public var utilisation = 0.0

    public init() {}

    typealias CMessage = Spool__V1__RateLimiterStatus
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__rate_limiter_status__init }

    init(c: UnsafePointer<CMessage>) {
        key = CRead.string(c.pointee.key)
        ratePerSecond = c.pointee.rate_per_second
        configuredRatePerSecond = c.pointee.configured_rate_per_second
        burst = c.pointee.burst
        tokens = c.pointee.tokens
        utilisation = c.pointee.utilisation
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.key = arena.string(key)
        c.pointee.rate_per_second = ratePerSecond
        c.pointee.configured_rate_per_second = configuredRatePerSecond
        c.pointee.burst = burst
        c.pointee.tokens = tokens
        c.pointee.utilisation = utilisation
    }
}

/// spool.v1.LockStatus
public struct LockStatus: Equatable, Sendable, ProtobufCBridged {
    public var key = ""
    public var capacity: Int32 = 0
    public var holders: [String] = []
    public var waiters: Int64 = 0

    public init() {}

    typealias CMessage = Spool__V1__LockStatus
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__lock_status__init }

    init(c: UnsafePointer<CMessage>) {
        key = CRead.string(c.pointee.key)
        capacity = c.pointee.capacity
        holders = CRead.strings(c.pointee.n_holders, c.pointee.holders)
        waiters = c.pointee.waiters
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.key = arena.string(key)
        c.pointee.capacity = capacity
        c.pointee.n_holders = holders.count
        c.pointee.holders = arena.strings(holders)
        c.pointee.waiters = waiters
    }
}

/// spool.v1.GetStatusResponse
public struct GetStatusResponse: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var serverTimeMs: Int64 = 0
    public var queues: [QueueStatus] = []
    public var workers: [WorkerSlot] = []
    public var rateLimiters: [RateLimiterStatus] = []
    public var locks: [LockStatus] = []
    public var jobs: [Job] = []
    public var batch: BatchSummary?
    public var remoteWorkers: [RemoteWorkerInfo] = []
    public var schedules: [ScheduleInfo] = []

    public init() {}

    typealias CMessage = Spool__V1__GetStatusResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__get_status_response__init }

    init(c: UnsafePointer<CMessage>) {
        let m = c.pointee
        serverTimeMs = m.server_time_ms
        queues = CRead.messages(m.n_queues, m.queues, as: QueueStatus.self)
        workers = CRead.messages(m.n_workers, m.workers, as: WorkerSlot.self)
        rateLimiters = CRead.messages(m.n_rate_limiters, m.rate_limiters, as: RateLimiterStatus.self)
        locks = CRead.messages(m.n_locks, m.locks, as: LockStatus.self)
        jobs = CRead.messages(m.n_jobs, m.jobs, as: Job.self)
        batch = CRead.message(m.batch, as: BatchSummary.self)
        remoteWorkers = CRead.messages(m.n_remote_workers, m.remote_workers, as: RemoteWorkerInfo.self)
        schedules = CRead.messages(m.n_schedules, m.schedules, as: ScheduleInfo.self)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.server_time_ms = serverTimeMs
        c.pointee.n_queues = queues.count
        c.pointee.queues = arena.messages(queues)
        c.pointee.n_workers = workers.count
        c.pointee.workers = arena.messages(workers)
        c.pointee.n_rate_limiters = rateLimiters.count
        c.pointee.rate_limiters = arena.messages(rateLimiters)
        c.pointee.n_locks = locks.count
        c.pointee.locks = arena.messages(locks)
        c.pointee.n_jobs = jobs.count
        c.pointee.jobs = arena.messages(jobs)
        c.pointee.batch = batch.map(arena.message)
        c.pointee.n_remote_workers = remoteWorkers.count
        c.pointee.remote_workers = arena.messages(remoteWorkers)
        c.pointee.n_schedules = schedules.count
        c.pointee.schedules = arena.messages(schedules)
    }
}

/// spool.v1.ScheduleStatus
public struct ScheduleInfo: Equatable, Sendable, ProtobufCBridged, Encodable {
    public var name = ""
    public var cron = ""
    public var timeZone = ""
    public var overlap = ""
    public var nextFireMs: Int64 = 0
    public var lastFireMs: Int64 = 0
    public var lastJobId = ""
    public var fired: Int64 = 0
    public var skipped: Int64 = 0
    public var lastError = ""

    public init() {}

    typealias CMessage = Spool__V1__ScheduleStatus
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__schedule_status__init }

    init(c: UnsafePointer<CMessage>) {
        let m = c.pointee
        name = CRead.string(m.name)
        cron = CRead.string(m.cron)
        timeZone = CRead.string(m.time_zone)
        overlap = CRead.string(m.overlap)
        nextFireMs = m.next_fire_ms
        lastFireMs = m.last_fire_ms
        lastJobId = CRead.string(m.last_job_id)
        fired = m.fired
        skipped = m.skipped
        lastError = CRead.string(m.last_error)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.name = arena.string(name)
        c.pointee.cron = arena.string(cron)
        c.pointee.time_zone = arena.string(timeZone)
        c.pointee.overlap = arena.string(overlap)
        c.pointee.next_fire_ms = nextFireMs
        c.pointee.last_fire_ms = lastFireMs
        c.pointee.last_job_id = arena.string(lastJobId)
        c.pointee.fired = fired
        c.pointee.skipped = skipped
        c.pointee.last_error = arena.string(lastError)
    }
}

// MARK: JSON (see JobMessages.swift)

extension EnqueueResponse: Encodable {}
extension CancelResponse: Encodable {}
extension JobCounts: Encodable {}
extension BatchSummary: Encodable {}
extension QueueStatus: Encodable {}
extension WorkerSlot: Encodable {}
extension RateLimiterStatus: Encodable {}
extension LockStatus: Encodable {}
extension GetStatusResponse: Encodable {}

extension ProgressEvent.Kind: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .unspecified: try container.encode("KIND_UNSPECIFIED")
        case .snapshot: try container.encode("KIND_SNAPSHOT")
        case .state: try container.encode("KIND_STATE")
        case .progress: try container.encode("KIND_PROGRESS")
        case .position: try container.encode("KIND_POSITION")
        }
    }
}

extension ProgressEvent: Encodable {}
