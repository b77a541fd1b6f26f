/// Where jobs are kept (docs/design.md §5). Every write is committed before its
/// call returns; concurrent writes may share one commit.
public protocol JobStore: Sendable {
    /// Stores new jobs for several callers in one transaction: each call's
    /// jobs all or none, with a result of its own. A job whose idempotency
    /// key is already taken (by an earlier job or call) is not stored: its
    /// outcome names the job that holds the key. Throws if nothing could be
    /// committed.
    func insert(calls: [[NewJob]]) async throws -> [Result<[InsertOutcome], any Error>]

    /// Saves the records' changing fields: state, attempt, run-at, progress,
    /// result, failure and times.
    func update(_ records: [JobRecord]) async throws

    /// The payload of the job with this seq.
    func payload(ofJobSeq seq: Int64) async throws -> [UInt8]?
    func job(id: String) async throws -> JobRecord?

    /// Every job of a batch still retained, in enqueue order.
    func jobs(inBatch id: String) async throws -> [JobRecord]

    /// The batch made with this idempotency key (EnqueueBatch), if it is retained.
    func batch(idempotencyKey: String) async throws -> KeyedBatch?

    /// How many of a batch's retained jobs are in each state.
    func stateCounts(ofBatch id: String) async throws -> StateCounts

    /// `stateCounts(ofBatch:)` of every batch that has an unfinished job, in
    /// one read (start-up).
    func stateCountsOfUnfinishedBatches() async throws -> [String: StateCounts]

    /// How many jobs `unfinishedJobs` will return.
    func unfinishedJobCount() async throws -> Int

    /// SCHEDULED, QUEUED and RUNNING jobs, in any order, in chunks of up to
    /// `chunkSize`: the store reads the next chunk while the caller works on
    /// the last (start-up).
    func unfinishedJobs(chunkSize: Int) -> AsyncThrowingStream<[JobRecord], any Error>

    /// The highest `seq` ever stored (0 for none): new jobs continue after it.
    func lastSeq() async throws -> Int64

    /// One page of the retained jobs `query` matches, as last committed,
    /// and how many match in all. A page costs about its size times
    /// log(jobs) when one filter (or queue, type and labels with states)
    /// narrows the search.
    func jobs(matching query: JobQuery) async throws -> JobPage

    /// Every queue's run-time settings (`UpdateQueue`), by queue.
    func queueOverrides() async throws -> [String: QueueOverride]

    /// Keeps a queue's run-time settings; an empty one is forgotten.
    func save(_ override: QueueOverride, forQueue queue: String) async throws

    /// Every schedule's last fire, by schedule name.
    func scheduleRecords() async throws -> [String: ScheduleRecord]

    /// Keeps a schedule's last fire.
    func save(_ record: ScheduleRecord, forSchedule name: String) async throws

    /// Deletes up to `limit` terminal jobs that finished before `beforeMs`;
    /// answers how many it deleted.
    func pruneFinished(beforeMs: Int64, limit: Int) async throws -> Int
}

/// A batch found by its idempotency key: its first `size` jobs are those
/// the call that made it stored.
public struct KeyedBatch: Sendable, Equatable {
    public var id: String
    public var size: Int

    public init(id: String, size: Int) {
        self.id = id
        self.size = size
    }
}

public enum InsertOutcome: Sendable, Equatable {
    case inserted
    /// The idempotency key belongs to this existing job.
    case duplicate(of: String)
}

extension JobStore {
    /// One call's jobs: all stored, or none and a throw.
    public func insert(_ jobs: [NewJob]) async throws -> [InsertOutcome] {
        try await insert(calls: [jobs])[0].get()
    }

    /// Every unfinished job in one array.
    public func unfinishedJobs() async throws -> [JobRecord] {
        var jobs: [JobRecord] = []
        for try await chunk in unfinishedJobs(chunkSize: 4096) { jobs += chunk }
        return jobs
    }
}
