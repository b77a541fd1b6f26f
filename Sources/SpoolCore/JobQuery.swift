/// What `ListJobs` asks the store for (docs/api.md: ListJobs): every
/// filter given must match; jobs come newest first (or oldest), a page at
/// a time, continuing after the last seq of the page before.
public struct JobQuery: Sendable, Equatable {
    public var queue: String?
    /// Empty: every state.
    public var states: [JobState] = []
    public var type: String?
    public var batchID: String?
    /// Each must be one of the job's labels.
    public var labels: [String: String] = [:]
    /// Created at or after.
    public var createdAfterMs: Int64?
    /// Created before.
    public var createdBeforeMs: Int64?
    public var oldestFirst = false
    public var pageSize = JobQuery.defaultPageSize
    /// Continue after this seq (in the query's order).
    public var afterSeq: Int64?
    /// The total a first page gave: later pages answer it instead of counting again.
    public var knownTotal: Int?

    public static let defaultPageSize = 50
    public static let maxPageSize = 1000

    public init() {}

    /// Whether `record` passes every filter (the cursor aside).
    public func matches(_ record: JobRecord) -> Bool {
        if let queue, record.queue != queue { return false }
        if !states.isEmpty && !states.contains(record.state) { return false }
        if let type, record.type != type { return false }
        if let batchID, record.batchId != batchID { return false }
        if let createdAfterMs, record.createdAtMs < createdAfterMs { return false }
        if let createdBeforeMs, record.createdAtMs >= createdBeforeMs { return false }
        let own = record.labels
        return labels.allSatisfy { own[$0.key] == $0.value }
    }
}

/// A page of `JobQuery`'s answer.
public struct JobPage: Sendable, Equatable {
    /// In the query's order.
    public var jobs: [JobRecord]
    /// The seq to continue after; nil on the last page.
    public var nextAfterSeq: Int64?
    /// Every stored job the filters match (as the first page counted them).
    public var total: Int

    public init(jobs: [JobRecord], nextAfterSeq: Int64?, total: Int) {
        self.jobs = jobs
        self.nextAfterSeq = nextAfterSeq
        self.total = total
    }
}
