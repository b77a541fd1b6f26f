/// How the engine schedules (docs/design.md §3 and §8). Every value has a default
/// that serves the README's first command.
public struct EngineConfiguration: Sendable {
    /// Most jobs running inside spoold at once (handlers and exec), over
    /// every queue together. Remote workers bring their own capacity.
    public var workers = 8
    /// The queue of jobs that name none and whose type has none in
    /// `typeQueues`. It is there from the start, configured or not.
    public static let defaultQueue = "default"
    /// Configured queues, in the order round-robin visits them. A job naming
    /// any other queue creates it with `queueDefaults`.
    public var queues: [QueueConfiguration] = []
    /// The settings of queues that are not configured (their name aside).
    public var queueDefaults = QueueConfiguration(name: EngineConfiguration.defaultQueue)
    /// Lock keys whose capacity is not 1, e.g. `["gpu": 2]`.
    public var lockCapacities: [String: Int] = [:]
    /// Rate limiters a job can name in `rate_key`, e.g. `["openai": RateLimit(…)]`.
    public var rateKeys: [String: RateLimit] = [:]
    /// The queue of each job type, for jobs that name none. Others go to `defaultQueue`.
    public var typeQueues: [String: String] = [:]
    /// Job types run by remote workers (`spool.v1.Workers`), not in spoold:
    /// their jobs wait QUEUED until a worker for them has a free slot.
    public var remoteTypes: [String: RemoteTypeConfiguration] = [:]
    /// How long finished jobs are kept before pruning.
    public var retentionMs: Int64 = 7 * 24 * 3_600_000
    /// State and progress events kept for resuming streams with `after_seq`.
    public var replayedEvents = 65_536
    /// Events a stream may have unsent before it is ended as too slow.
    public var subscriberBufferLimit = 100_000
    /// Bytes (estimated) that every stream together may have unsent: past
    /// it, the streams furthest behind are ended as too slow.
    public var subscriberBufferBytes = 256 << 20
    /// The most jobs one EnqueueBatch may carry.
    public var maxBatchSize = 10_000
    /// The most queues there may be, configured ones included: a job or an
    /// UpdateQueue naming a new queue past it is refused RESOURCE_EXHAUSTED,
    /// so clients cannot grow the server (and /metrics) by naming queues.
    public var maxQueues = 1_000
    /// Least time between two position events of one job on one stream.
    public var positionIntervalMs: Int64 = 250
    /// Cron schedules: jobs enqueued at their fire times.
    public var schedules: [Schedule] = []

    public init() {}

    public func queue(named name: String) -> QueueConfiguration {
        if let configured = queues.first(where: { $0.name == name }) { return configured }
        var queue = queueDefaults
        queue.name = name
        return queue
    }
}

public struct QueueConfiguration: Sendable, Equatable {
    public var name: String
    /// Most of this queue's jobs running at once.
    public var concurrency = 4
    /// A token bucket for the queue's dispatches; nil: unlimited.
    public var rateLimit: RateLimit?
    /// Most waiting (SCHEDULED and QUEUED) jobs; more → RESOURCE_EXHAUSTED. 0: no limit.
    public var maxDepth: Int = 1_000_000
    public var maxAttempts: Int32 = 3
    public var backoff = Backoff()
    /// Per attempt; 0: none.
    public var timeoutMs: Int64 = 300_000
    /// How long a job of the queue may wait for its first start, from its
    /// run time, before it fails `expired`; nil: for ever.
    public var maxWaitMs: Int64?
    /// A fair queue: its jobs take turns by the value of this label (the
    /// tenant), round-robin among tenants with ready jobs; nil: one line.
    public var fairBy: String?

    public init(name: String, concurrency: Int = 4, rateLimit: RateLimit? = nil, maxDepth: Int = 1_000_000,
                maxAttempts: Int32 = 3, backoff: Backoff = Backoff(), timeoutMs: Int64 = 300_000) {
        self.name = name
        self.concurrency = concurrency
        self.rateLimit = rateLimit
        self.maxDepth = maxDepth
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.timeoutMs = timeoutMs
    }
}

public struct RateLimit: Sendable, Equatable {
    public var ratePerSecond: Double
    public var burst: Double
    /// How the bucket slows down after a "rate limited" answer and recovers.
    public var recovery: RateRecovery

    public init(ratePerSecond: Double, burst: Double? = nil, recovery: RateRecovery = RateRecovery()) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst ?? max(1, ratePerSecond)
        self.recovery = recovery
    }
}

/// What a token bucket does when a downstream answers "rate limited, retry
/// after T" (docs/configuration.md: Rates): its rate is multiplied by
/// `decrease`, at most once a second; each success then adds back
/// `recovery` times the configured rate, up to it.
public struct RateRecovery: Sendable, Equatable {
    public var decrease: Double
    public var recovery: Double

    public init(decrease: Double = 0.5, recovery: Double = 0.02) {
        self.decrease = decrease
        self.recovery = recovery
    }
}

/// What `UpdateQueue` changed of a queue at run time, kept in the store and
/// laid over the queue's configuration at every start.
public struct QueueOverride: Sendable, Equatable {
    /// nil: not paused.
    public var paused: Bool?
    /// nil: as configured.
    public var concurrency: Int?
    /// nil: as configured; `.some(nil)`: no rate limit.
    public var rateLimit: RateLimit??

    public init(paused: Bool? = nil, concurrency: Int? = nil, rateLimit: RateLimit?? = nil) {
        self.paused = paused
        self.concurrency = concurrency
        self.rateLimit = rateLimit
    }

    public var isEmpty: Bool { self == QueueOverride() }

    /// A stored row as settings the engine can take: a value out of range
    /// (a row edited by hand, a damaged file) is dropped, as if unset.
    public init(storedPaused paused: Bool?, concurrency: Int64?, rateSet: Bool, perSecond: Double?, burst: Double?) {
        self.init()
        if paused == true { self.paused = true }
        if let concurrency, (1...Int64(1_000_000)).contains(concurrency) { self.concurrency = Int(concurrency) }
        if rateSet {
            if let perSecond {
                // The ranges UpdateQueue and the config file take.
                if perSecond >= 1e-6 && perSecond <= 1e9 {
                    let burst = burst.flatMap { $0 >= 1 && $0 <= 1e9 ? $0 : nil }
                    rateLimit = .some(RateLimit(ratePerSecond: perSecond, burst: burst))
                }
            } else {
                rateLimit = .some(nil)
            }
        }
    }
}
