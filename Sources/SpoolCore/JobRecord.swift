/// A job as the engine and the store know it (docs/design.md §2), without its
/// payload: payloads stay in the store while a job waits.
public struct JobRecord: Sendable, Equatable {
    public struct Progress: Sendable, Equatable {
        public var fraction: Double
        public var step: String
        public var message: String

        public init(fraction: Double = 0, step: String = "", message: String = "") {
            self.fraction = fraction
            self.step = step
            self.message = message
        }
    }

    /// What a BLOCKED job waits for: jobs and batches to end.
    public struct Dependencies: Sendable, Equatable {
        /// Job ids.
        public var jobs: [String]
        /// Batch ids: a batch is met once every job of it SUCCEEDED.
        public var batches: [String]
        /// Run even when a dependency FAILED or was CANCELLED (else the
        /// job is CANCELLED then).
        public var runIfFailed: Bool

        public init(jobs: [String] = [], batches: [String] = [], runIfFailed: Bool = false) {
            self.jobs = jobs
            self.batches = batches
            self.runIfFailed = runIfFailed
        }

        public var count: Int { jobs.count + batches.count }
    }

    public struct Failure: Sendable, Equatable {
        public var code: String
        public var message: String
        public var retryable: Bool

        public init(code: String, message: String, retryable: Bool) {
            self.code = code
            self.message = message
            self.retryable = retryable
        }
    }

    /// The id as the engine keeps it (16 bytes for the ids it makes).
    public var jobID: JobID
    /// UUIDv7 text for the jobs the engine makes.
    public var id: String {
        get { jobID.text }
        set { jobID = JobID(newValue) }
    }
    /// Enqueue order, unique: FIFO among equal priorities.
    public var seq: Int64
    public var queue: String
    public var type: String
    public var priority: Int32
    public var state: JobState
    public var maxAttempts: Int32
    public var attempt: Int32 = 0
    public var timeoutMs: Int64
    public var runAtMs: Int64
    public var batchId: String?
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    /// The rest, out of line: a waiting job usually has none of it, so the
    /// engine's record of one is 136 bytes where it would be 288.
    private var details: DetailsBox?

    public var idempotencyKey: String? {
        get { details?.value.idempotencyKey }
        set { changeDetails { $0.idempotencyKey = newValue } }
    }
    public var lockKeys: [String] {
        get { details?.value.lockKeys ?? [] }
        set { changeDetails { $0.lockKeys = newValue } }
    }
    public var rateKey: String? {
        get { details?.value.rateKey }
        set { changeDetails { $0.rateKey = newValue } }
    }
    /// Tokens it takes from its rate key's bucket: 1 unless set.
    public var rateCost: Int32 {
        get { details?.value.rateCost ?? 1 }
        set { changeDetails { $0.rateCost = newValue } }
    }
    public var labels: [String: String] {
        get { details?.value.labels ?? [:] }
        set { changeDetails { $0.labels = newValue } }
    }
    public var progress: Progress {
        get { details?.value.progress ?? Progress() }
        set { changeDetails { $0.progress = newValue } }
    }
    public var result: [UInt8]? {
        get { details?.value.result }
        set { changeDetails { $0.result = newValue } }
    }
    public var failure: Failure? {
        get { details?.value.failure }
        set { changeDetails { $0.failure = newValue } }
    }
    /// The time the job must have started by (its first attempt): still
    /// waiting then, it fails with code `expired`. nil: no such time.
    public var expireAtMs: Int64? {
        get { details?.value.expireAtMs }
        set { changeDetails { $0.expireAtMs = newValue } }
    }
    /// What it waits for before it may run; nil: nothing.
    public var dependencies: Dependencies? {
        get { details?.value.dependencies }
        set { changeDetails { $0.dependencies = newValue } }
    }
    /// How the batches it waited for ended (JSON, `DependencySummary`),
    /// set when it is released.
    public var dependencySummary: String? {
        get { details?.value.dependencySummary }
        set { changeDetails { $0.dependencySummary = newValue } }
    }
    public var startedAtMs: Int64? {
        get { details?.value.startedAtMs }
        set { changeDetails { $0.startedAtMs = newValue } }
    }
    public var finishedAtMs: Int64? {
        get { details?.value.finishedAtMs }
        set { changeDetails { $0.finishedAtMs = newValue } }
    }
    /// What a store could not read of this job faithfully (a number out of
    /// its type's range, a malformed list): such a job is failed as corrupt
    /// at start-up. Never stored.
    public var corruption: String? {
        get { details?.value.corruption }
        set { changeDetails { $0.corruption = newValue } }
    }

    public init(
        id: JobID, seq: Int64, queue: String, type: String, priority: Int32 = 0, state: JobState,
        idempotencyKey: String? = nil, lockKeys: [String] = [], rateKey: String? = nil,
        maxAttempts: Int32, timeoutMs: Int64, runAtMs: Int64, batchId: String? = nil,
        labels: [String: String] = [:], createdAtMs: Int64
    ) {
        self.jobID = id
        self.seq = seq
        self.queue = queue
        self.type = type
        self.priority = priority
        self.state = state
        self.maxAttempts = maxAttempts
        self.timeoutMs = timeoutMs
        self.runAtMs = runAtMs
        self.batchId = batchId
        self.createdAtMs = createdAtMs
        self.updatedAtMs = createdAtMs
        if idempotencyKey != nil || !lockKeys.isEmpty || rateKey != nil || !labels.isEmpty {
            details = DetailsBox(Details(idempotencyKey: idempotencyKey, lockKeys: lockKeys, rateKey: rateKey, labels: labels))
        }
    }

    private mutating func changeDetails(_ change: (inout Details) -> Void) {
        if details == nil {
            details = DetailsBox(Details())
        } else if !isKnownUniquelyReferenced(&details) {
            details = DetailsBox(details!.value)
        }
        change(&details!.value)
    }

    public static func == (a: JobRecord, b: JobRecord) -> Bool {
        a.jobID == b.jobID && a.seq == b.seq && a.queue == b.queue && a.type == b.type && a.priority == b.priority
            && a.state == b.state && a.maxAttempts == b.maxAttempts && a.attempt == b.attempt
            && a.timeoutMs == b.timeoutMs && a.runAtMs == b.runAtMs && a.batchId == b.batchId
            && a.createdAtMs == b.createdAtMs && a.updatedAtMs == b.updatedAtMs
            && (a.details?.value ?? Details()) == (b.details?.value ?? Details())
    }
}

/// A job's less common fields.
private struct Details: Sendable, Equatable {
    var idempotencyKey: String?
    var lockKeys: [String] = []
    var rateKey: String?
    var rateCost: Int32 = 1
    var labels: [String: String] = [:]
    var progress = JobRecord.Progress()
    var result: [UInt8]?
    var failure: JobRecord.Failure?
    var expireAtMs: Int64?
    var dependencies: JobRecord.Dependencies?
    var dependencySummary: String?
    var startedAtMs: Int64?
    var finishedAtMs: Int64?
    var corruption: String?
}

/// Copy on write by hand: `JobRecord` replaces the box before changing it
/// unless it holds the only reference, so a box is never changed while
/// another record (or thread) can see it. That is what makes it Sendable.
private final class DetailsBox: @unchecked Sendable {
    var value: Details

    init(_ value: Details) { self.value = value }
}

/// A job to store for the first time, with its payload.
public struct NewJob: Sendable, Equatable {
    public var record: JobRecord
    public var payload: [UInt8]
    /// On the first job of a batch made with an idempotency key: the key,
    /// kept with the batch (and how many of the call's jobs were stored).
    public var batchKey: String?

    public init(_ record: JobRecord, payload: [UInt8]) {
        self.record = record
        self.payload = payload
    }
}

extension JobRecord {
    /// The latest time a stored job may carry: a run_at at its limit, then
    /// retried after the longest delay.
    static let latestTimeMs = JobLimits.maxRunAtMs + JobLimits.maxDurationMs

    /// Why the engine cannot take this stored job back at start-up, or nil:
    /// the limits Enqueue checks (`JobLimits`), and what the engine's sums
    /// rely on. A database changed by hand, or by a bug, can hold anything.
    public var loadProblem: String? {
        if let corruption { return corruption }
        if seq <= 0 { return "seq \(seq) is not positive" }
        if !(1...JobLimits.maxAttempts).contains(maxAttempts) {
            return "max_attempts \(maxAttempts) is outside 1…\(JobLimits.maxAttempts)"
        }
        if !(0...maxAttempts).contains(attempt) { return "attempt \(attempt) is outside 0…max_attempts (\(maxAttempts))" }
        if !(0...JobLimits.maxDurationMs).contains(timeoutMs) {
            return "timeout_ms \(timeoutMs) is outside 0…\(JobLimits.maxDurationMs)"
        }
        let times: [(String, Int64?)] = [("run_at_ms", runAtMs), ("created_at_ms", createdAtMs), ("updated_at_ms", updatedAtMs),
                                         ("started_at_ms", startedAtMs)]
        for case let (name, time?) in times where !(0...Self.latestTimeMs).contains(time) {
            return "\(name) \(time) is outside 0…\(Self.latestTimeMs)"
        }
        if !(0...1).contains(progress.fraction) { return "progress \(progress.fraction) is outside 0…1" }
        if let dependencies, dependencies.count > JobLimits.maxDependencies {
            return "it has \(dependencies.count) dependencies; the most a job may have is \(JobLimits.maxDependencies)"
        }
        if rateCost < 1 { return "rate_cost \(rateCost) is below 1" }
        return nil
    }
}
