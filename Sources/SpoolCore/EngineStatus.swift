/// What `QueueEngine.status` answers (`spool.v1.GetStatusResponse`).
public struct EngineStatus: Sendable {
    public struct Queue: Sendable {
        public var name: String
        /// Unfinished jobs now, and jobs finished since the server started.
        public var counts: StateCounts
        public var concurrency: Int
        public var maxDepth: Int
        public var throughputPerMinute: Int
        public var meanRunMs: Int64
        public var runningJobIDs: [String]
        /// Takes jobs, starts none.
        public var paused = false
    }

    public struct Worker: Sendable {
        public var index: Int
        public var jobID: String?
        public var queue: String?
        public var sinceMs: Int64
    }

    public struct RateLimiter: Sendable {
        /// "queue:NAME" or a rate key.
        public var key: String
        public var ratePerSecond: Double
        public var configuredRatePerSecond: Double
        public var burst: Double
        public var tokens: Double
        /// Share of the configured rate used over the last minute.
        public var utilisation: Double
    }

    public struct Lock: Sendable {
        public var key: String
        public var capacity: Int
        public var holders: [String]
        public var waiters: Int
    }

    public var serverTimeMs: Int64
    public var queues: [Queue] = []
    public var workers: [Worker] = []
    /// Connected remote workers.
    public var remoteWorkers: [RemoteWorkerStatus] = []
    public var rateLimiters: [RateLimiter] = []
    public var locks: [Lock] = []
    public var schedules: [ScheduleStatus] = []
    public var jobs: [JobView] = []
    public var batch: BatchSummary?
    /// Open progress streams, and the bytes of events they hold unsent.
    public var progressStreams = 0
    public var progressStreamBytes = 0
}

/// What `QueueEngine.enqueue` answers.
public struct EnqueueResult: Sendable {
    public struct Item: Sendable {
        public var job: JobView
        /// The idempotency key matched this existing job; nothing was created.
        public var deduplicated: Bool
    }

    public var batchID: String?
    /// In request order.
    public var items: [Item]
    /// Every job was there already, in this batch: nothing was created.
    public var deduplicated = false
    /// The batch's callback job, if it asked for one.
    public var callback: Item?

    init(batchID: String?, items: [Item], deduplicated: Bool = false, hasCallback: Bool = false) {
        self.batchID = batchID
        self.items = items
        self.deduplicated = deduplicated
        if hasCallback, let last = self.items.popLast() { callback = last }
    }
}

/// What start-up found (docs/design.md §5).
public struct RecoveryReport: Sendable, Equatable {
    public var scheduled = 0
    public var queued = 0
    /// BLOCKED jobs, their dependencies linked again.
    public var blocked = 0
    /// RUNNING jobs whose run was interrupted, queued again.
    public var requeued = 0
    /// RUNNING jobs whose interrupted run was their last attempt.
    public var failed = 0
    /// Jobs whose stored rows could not be taken back, failed with error
    /// code `corrupt` (`JobRecord.loadProblem`).
    public var corrupt: [CorruptJob] = []

    public struct CorruptJob: Sendable, Equatable {
        public var id: String
        public var problem: String
    }

    public init(scheduled: Int = 0, queued: Int = 0, requeued: Int = 0, failed: Int = 0) {
        self.scheduled = scheduled
        self.queued = queued
        self.requeued = requeued
        self.failed = failed
    }
}
