/// A job as the engine shows it: its record, its place in its queue, and
/// when it should finish.
public struct JobView: Sendable, Equatable {
    public var record: JobRecord
    /// 1-based rank while QUEUED, else 0.
    public var position: Int
    /// Estimated finish time in ms since the epoch; 0: unknown.
    public var etaMs: Int64
    /// Why a SCHEDULED or QUEUED job is not running yet; nil otherwise.
    public var wait: WaitReason?

    public init(record: JobRecord, position: Int = 0, etaMs: Int64 = 0, wait: WaitReason? = nil) {
        self.record = record
        self.position = position
        self.etaMs = etaMs
        self.wait = wait
    }
}

/// Why a waiting job does not run yet, as the engine sees it now (docs/api.md:
/// Why a job waits): the first thing that holds it back.
public struct WaitReason: Sendable, Equatable {
    public enum Kind: Int32, Sendable, CaseIterable {
        /// SCHEDULED: its run time is not reached (`untilMs`).
        case runAt = 1
        /// Jobs of its queue come first (`ahead`); nothing else holds it.
        case behind = 2
        /// Its queue already runs its concurrency's worth (`ahead` jobs before it).
        case queueConcurrency = 3
        /// Every place that can run its type is taken (spoold's worker slots, or its remote workers' capacity).
        case workers = 4
        /// A lock key it needs is held (`key`, `holders`; `ahead` waiters before it).
        case lock = 5
        /// A rate limiter has no token (`key`: the rate key or "queue:NAME"; the next at `untilMs`).
        case rate = 6
        /// Its queue is paused.
        case paused = 7
        /// Its type runs on remote workers and none is connected.
        case noWorker = 8
        /// BLOCKED: `holders` (jobs) and `key` (the first batch) have not
        /// ended; `ahead` dependencies in all.
        case dependencies = 9
    }

    public var kind: Kind
    public var key = ""
    public var holders: [String] = []
    public var ahead = 0
    public var untilMs: Int64 = 0
    /// The job's queue, and its concurrency (`queueConcurrency`) or the
    /// number of busy places (`workers`), for `text`.
    public var queue = ""
    public var limit = 0

    public init(_ kind: Kind, key: String = "", holders: [String] = [], ahead: Int = 0, untilMs: Int64 = 0,
                queue: String = "", limit: Int = 0) {
        self.kind = kind
        self.key = key
        self.holders = holders
        self.ahead = ahead
        self.untilMs = untilMs
        self.queue = queue
        self.limit = limit
    }

    /// For people: "lock repo:acme held by 1 job, 2 waiting before it". Made
    /// when asked: every waiting job's view carries a reason, few are read.
    public var text: String {
        switch kind {
        case .runAt: return "scheduled to run at \(untilMs)"
        case .behind: return ahead == 0 ? "next to start" : "\(ahead) job\(ahead == 1 ? "" : "s") of queue \(queue) before it"
        case .queueConcurrency:
            return "queue \(queue) runs \(limit) at once, all busy" + (ahead > 0 ? "; \(ahead) before it" : "")
        case .workers:
            return key.isEmpty ? "all \(limit) of spoold's worker slots are busy" : "all \(limit) workers for type \(key) are busy"
        case .lock:
            return "lock \(key) held by \(holders.count == 1 ? "1 job" : "\(holders.count) jobs")"
                + (ahead > 0 ? ", \(ahead) waiting before it" : "")
        case .rate: return "rate limit \(key): next token at \(untilMs)"
        case .paused: return "queue \(queue) is paused"
        case .noWorker: return "no worker for type \(key) is connected"
        case .dependencies:
            let named = holders.prefix(3).map { "job \($0)" } + (key.isEmpty ? [] : ["batch \(key)"])
            let more = ahead - named.count
            return "waits for \(ahead) dependenc\(ahead == 1 ? "y" : "ies"): " + named.joined(separator: ", ")
                + (more > 0 ? " and \(more) more" : "")
        }
    }
}

/// How many jobs of a batch (or a queue) are in each state.
public struct StateCounts: Sendable, Equatable {
    // Stored inline, not in an array: a count is made per enqueue call.
    private var scheduled = 0, queued = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0, blocked = 0

    public init() {}

    public subscript(state: JobState) -> Int {
        get {
            switch state {
            case .scheduled: scheduled
            case .queued: queued
            case .running: running
            case .succeeded: succeeded
            case .failed: failed
            case .cancelled: cancelled
            case .blocked: blocked
            }
        }
        set {
            switch state {
            case .scheduled: scheduled = newValue
            case .queued: queued = newValue
            case .running: running = newValue
            case .succeeded: succeeded = newValue
            case .failed: failed = newValue
            case .cancelled: cancelled = newValue
            case .blocked: blocked = newValue
            }
        }
    }

    public var total: Int { blocked + scheduled + queued + running + terminal }
    public var terminal: Int { succeeded + failed + cancelled }
    public var unfinished: Int { total - terminal }
    /// BLOCKED, SCHEDULED and QUEUED: what a queue's max_depth bounds.
    var waiting: Int { blocked + scheduled + queued }

    mutating func add(_ other: StateCounts) {
        for state in JobState.allCases { self[state] += other[state] }
    }

    mutating func move(from old: JobState?, to new: JobState) {
        if let old { self[old] -= 1 }
        self[new] += 1
    }
}

public struct BatchSummary: Sendable, Equatable {
    public var id: String
    public var counts: StateCounts
    /// Estimated time every job is terminal; 0: unknown.
    public var etaMs: Int64

    public var total: Int { counts.total }
    /// Terminal jobs / total × 100.
    public var percent: Double { total == 0 ? 100 : Double(counts.terminal) * 100 / Double(total) }
}

/// Something that happened to a job (docs/design.md §4).
public struct JobEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The job as it was when the stream started (seq 0).
        case snapshot
        case state
        case progress
        case position
    }

    /// Global and strictly increasing; 0 for snapshots.
    public var seq: UInt64
    public var timeMs: Int64
    public var kind: Kind
    public var job: JobView
    /// Why, for people: "retry 2 of 3 in 1.4 s: upstream timed out".
    public var note: String
    /// The job's batch after the event, when it has one.
    public var batch: BatchSummary?
}

/// What a progress stream watches.
public enum Selection: Sendable, Equatable {
    case jobs([String])
    case batch(String)
    case queue(String)
    /// Every queue: a live feed of the whole server (the dashboard's).
    case all
}
