/// A job as the engine shows it: its record, its place in its queue, and
/// when it should finish.
public struct JobView: Sendable, Equatable {
    public var record: JobRecord
    /// 1-based rank while QUEUED, else 0.
    public var position: Int
    /// Estimated finish time in ms since the epoch; 0: unknown.
    public var etaMs: Int64

    public init(record: JobRecord, position: Int = 0, etaMs: Int64 = 0) {
        self.record = record
        self.position = position
        self.etaMs = etaMs
    }
}

/// How many jobs of a batch (or a queue) are in each state.
public struct StateCounts: Sendable, Equatable {
    // Stored inline, not in an array: a count is made per enqueue call.
    private var scheduled = 0, queued = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0

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
            }
        }
    }

    public var total: Int { scheduled + queued + running + terminal }
    public var terminal: Int { succeeded + failed + cancelled }
    public var unfinished: Int { total - terminal }
    /// SCHEDULED and QUEUED: what a queue's max_depth bounds.
    var waiting: Int { scheduled + queued }

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
