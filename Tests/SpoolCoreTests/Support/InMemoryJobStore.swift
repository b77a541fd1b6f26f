import SpoolCore
import Synchronization

/// A `JobStore` in memory, for deterministic engine tests: every write
/// "commits" at once. It can be told to fail, and it counts its writes.
final class InMemoryJobStore: JobStore {
    private struct State {
        var records: [String: JobRecord] = [:]
        var payloads: [Int64: [UInt8]] = [:]  // by seq
        var failWrites = false
        var queueOverrides: [String: QueueOverride] = [:]
        var batchKeys: [String: KeyedBatch] = [:]
        var schedules: [String: ScheduleRecord] = [:]
    }

    private let state = Mutex(State())

    init(_ records: [JobRecord] = []) {
        state.withLock { state in
            for record in records {
                state.records[record.id] = record
                state.payloads[record.seq] = []
            }
        }
    }

    /// While set, writes throw (as a full disk would).
    func failWrites(_ fail: Bool) { state.withLock { $0.failWrites = fail } }

    /// The committed record of a job.
    func stored(_ id: String) -> JobRecord? { state.withLock { $0.records[id] } }

    struct WriteFailed: Error {}

    /// Where a test can hold the store's next call of a kind, to act while it is on its way.
    enum PausePoint {
        /// An insert, before it commits (as a slow fsync would let a test).
        case insert
        /// A batch read, once it has taken its records and before it answers.
        case batchRead
        /// A read of one job by id, before it looks.
        case jobRead
    }

    private let pauses = Mutex<[PausePoint: @Sendable () async -> Void]>([:])
    private let updatePause = Mutex<(matches: @Sendable (JobRecord) -> Bool, run: @Sendable () async -> Void)?>(nil)

    /// The next write of changed jobs that holds a record matching `matches`
    /// runs `pause` before it commits (as a slow fsync would let a test).
    func pauseNextUpdate(holding matches: @escaping @Sendable (JobRecord) -> Bool,
                         _ pause: @escaping @Sendable () async -> Void) {
        updatePause.withLock { $0 = (matches, pause) }
    }

    /// The next call at `point` runs `pause` there.
    func pauseNext(_ point: PausePoint, _ pause: @escaping @Sendable () async -> Void) {
        pauses.withLock { $0[point] = pause }
    }

    private func pauseIfAsked(at point: PausePoint) async {
        if let pause = pauses.withLock({ $0.removeValue(forKey: point) }) { await pause() }
    }

    func insert(calls: [[NewJob]]) async throws -> [Result<[InsertOutcome], any Error>] {
        await pauseIfAsked(at: .insert)
        return try state.withLock { state in
            if state.failWrites { throw WriteFailed() }
            var taken = Dictionary(state.records.values.compactMap { r in r.idempotencyKey.map { ($0, r.id) } },
                                   uniquingKeysWith: { a, _ in a })
            return calls.map { jobs in
                if let first = jobs.first, let key = first.batchKey, let batch = first.record.batchId {
                    let size = jobs.filter { $0.record.batchId == batch && $0.record.idempotencyKey.map { taken[$0] == nil } ?? true }.count
                    state.batchKeys[key] = KeyedBatch(id: batch, size: size)
                }
                return .success(jobs.map { job in
                    if let key = job.record.idempotencyKey, let holder = taken[key] { return .duplicate(of: holder) }
                    state.records[job.record.id] = job.record
                    state.payloads[job.record.seq] = job.payload
                    if let key = job.record.idempotencyKey { taken[key] = job.record.id }
                    return .inserted
                })
            }
        }
    }

    func update(_ records: [JobRecord]) async throws {
        if let pause = updatePause.withLock({ pause -> (@Sendable () async -> Void)? in
            guard let (matches, run) = pause, records.contains(where: matches) else { return nil }
            pause = nil
            return run
        }) {
            await pause()
        }
        try state.withLock { state in
            if state.failWrites { throw WriteFailed() }
            for record in records where state.records[record.id] != nil { state.records[record.id] = record }
        }
    }

    func payload(ofJobSeq seq: Int64) async throws -> [UInt8]? { state.withLock { $0.payloads[seq] } }

    func queueOverrides() async throws -> [String: QueueOverride] { state.withLock { $0.queueOverrides } }

    func save(_ override: QueueOverride, forQueue queue: String) async throws {
        try state.withLock { state in
            if state.failWrites { throw WriteFailed() }
            state.queueOverrides[queue] = override.isEmpty ? nil : override
        }
    }

    /// The model of `SQLiteJobStore`'s: a scan.
    func jobs(matching query: JobQuery) async throws -> JobPage {
        let matching = state.withLock { $0.records.values.filter(query.matches) }
            .sorted { query.oldestFirst ? $0.seq < $1.seq : $0.seq > $1.seq }
        let after = matching.filter { record in
            guard let cursor = query.afterSeq else { return true }
            return query.oldestFirst ? record.seq > cursor : record.seq < cursor
        }
        let page = Array(after.prefix(query.pageSize))
        return JobPage(jobs: page, nextAfterSeq: after.count > page.count ? page.last?.seq : nil,
                       total: query.knownTotal ?? matching.count)
    }
    func job(id: String) async throws -> JobRecord? {
        await pauseIfAsked(at: .jobRead)
        return stored(id)
    }

    func jobs(inBatch id: String) async throws -> [JobRecord] {
        let records = state.withLock { $0.records.values.filter { $0.batchId == id }.sorted { $0.seq < $1.seq } }
        await pauseIfAsked(at: .batchRead)
        return records
    }

    func scheduleRecords() async throws -> [String: ScheduleRecord] { state.withLock { $0.schedules } }

    func save(_ record: ScheduleRecord, forSchedule name: String) async throws {
        try state.withLock { state in
            if state.failWrites { throw WriteFailed() }
            state.schedules[name] = record
        }
    }

    /// A schedule's stored record.
    func schedule(_ name: String) -> ScheduleRecord? { state.withLock { $0.schedules[name] } }

    func batch(idempotencyKey: String) async throws -> KeyedBatch? { state.withLock { $0.batchKeys[idempotencyKey] } }

    func stateCounts(ofBatch id: String) async throws -> StateCounts {
        var counts = StateCounts()
        for record in try await jobs(inBatch: id) { counts[record.state] += 1 }
        return counts
    }

    func stateCountsOfUnfinishedBatches() async throws -> [String: StateCounts] {
        let records = state.withLock { Array($0.records.values) }
        let open = Set(records.filter { !$0.state.isTerminal }.compactMap(\.batchId))
        var counts: [String: StateCounts] = [:]
        for record in records { if let batch = record.batchId, open.contains(batch) { counts[batch, default: StateCounts()][record.state] += 1 } }
        return counts
    }

    func unfinishedJobCount() async throws -> Int {
        state.withLock { $0.records.values.filter { !$0.state.isTerminal }.count }
    }

    func unfinishedJobs(chunkSize: Int) -> AsyncThrowingStream<[JobRecord], any Error> {
        let jobs = state.withLock { $0.records.values.filter { !$0.state.isTerminal }.sorted { $0.seq < $1.seq } }
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: [JobRecord].self)
        for start in stride(from: 0, to: jobs.count, by: chunkSize) {
            continuation.yield(Array(jobs[start..<min(jobs.count, start + chunkSize)]))
        }
        continuation.finish()
        return chunks
    }

    func lastSeq() async throws -> Int64 { state.withLock { $0.records.values.map(\.seq).max() ?? 0 } }

    func pruneFinished(beforeMs: Int64, limit: Int) async throws -> Int {
        state.withLock { state in
            let old = state.records.values.filter { ($0.finishedAtMs ?? .max) < beforeMs }
                .sorted { $0.finishedAtMs! < $1.finishedAtMs! }.prefix(limit)
            for record in old {
                state.records[record.id] = nil
                state.payloads[record.seq] = nil
            }
            return old.count
        }
    }
}
