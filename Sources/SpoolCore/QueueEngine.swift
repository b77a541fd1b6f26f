/// The one owner of queue state (docs/design.md §1–5): jobs, the scheduler, the
/// rate limiters, the locks, the worker slots and the subscribers. Handlers
/// run as tasks outside the actor and report back through its methods; the
/// transport only awaits its public methods.
///
/// The parts, each in its own file: `Scheduler` (what runs next),
/// `QueueEngine+Enqueue` (accepting jobs, many calls per store write), the
/// dispatcher (`QueueEngine+Dispatch`: starting handler tasks and recording
/// their outcome), `Completer` (grouped writes), `EventHub` (subscribers).
public actor QueueEngine {
    enum Phase {
        case created
        case running
        case stopping
        case stopped
    }

    /// Why a RUNNING job's handler task was cancelled.
    enum CancelCause: Equatable {
        case request(String)
        case timeout
        case shutdown
    }

    struct RunningJob {
        /// Where the attempt runs.
        enum Runner {
            /// A handler task in spoold, in one of its worker slots.
            case local(task: Task<Void, Never>, slot: Int)
            /// A remote worker (by number) holding the attempt's lease.
            case remote(worker: Int64, lease: RemoteLease)
        }

        var runner: Runner
        /// Its batch, so a batch's ETA finds its running jobs without reading every record.
        let batchID: String?
        /// When this attempt times out, if it can.
        let deadlineMs: Int64?
        var cancelCause: CancelCause?
    }

    /// A remote attempt's lease: it ends at `expiresAtMs` unless renewed.
    struct RemoteLease {
        let id: String
        let durationMs: Int64
        var expiresAtMs: Int64
        /// Once a cancel is sent, the lease ends by then whatever the worker says.
        var cancelDeadlineMs: Int64?
        /// The assignment has been handed to the transport.
        var delivered = false
    }

    struct Worker {
        var seq: Int64
        var sinceMs: Int64
    }

    public nonisolated let configuration: EngineConfiguration
    let store: any JobStore
    let clock: any WallClock
    let handlers: [String: any JobHandler]
    let handlerTypes: Set<String>
    let rateKeys: [String: RateLimit]

    var phase = Phase.created
    var table = JobTable()
    var scheduler: Scheduler
    var hub: EventHub
    var completer = Completer()
    var ids: JobIDGenerator
    var random: SeededRandom
    var lastJobSeq: Int64 = 0
    /// Per queue: unfinished jobs now, terminal ones since start.
    var counts: [String: StateCounts] = [:]
    var stats: [String: QueueStats] = [:]
    var metrics = EngineMetrics()
    /// Run-time queue settings (`updateQueue`), as stored.
    var queueOverrides: [String: QueueOverride] = [:]
    /// Batches with unfinished jobs: the counts of all their jobs.
    var batches: [String: StateCounts] = [:]
    /// Per batch, its jobs on their way into the store: it cannot end meanwhile.
    var batchJoining: [String: Int] = [:]
    /// BLOCKED jobs (and ones on their way into the store that will be), by seq.
    var blocked: [Int64: Blocking] = [:]
    /// Per job that has not ended, the BLOCKED jobs waiting for it, by seq.
    var dependents: [Int64: [Int64]] = [:]
    /// Per open batch, the BLOCKED jobs waiting for it.
    var batchDependents: [String: [Int64]] = [:]
    /// Dependencies that ended, their dependents not yet told (`tellDependents`).
    var endedDependencies: [EndedDependency] = []
    /// Batch idempotency keys of the batches being stored or in memory.
    var batchKeys: [String: BatchKeyState] = [:]
    var batchKeyOfBatch: [String: String] = [:]
    /// The configured cron schedules, by name.
    var schedules: [String: LiveSchedule] = [:]
    var tellingDependents = false
    var workers: [Worker?]
    var freeWorkers: [Int]
    /// Connected remote workers, and disconnected ones that still hold leases, by number.
    var remoteWorkers: [Int64: RemoteWorkerState] = [:]
    var lastWorkerNumber: Int64 = 0
    /// Remote attempts' lease ends, by seq; stale entries are skipped.
    var leaseTimers = TimerHeap()
    /// Resumed when `running` empties while the engine stops.
    var runningEmptied: CheckedContinuation<Void, Never>?
    var running: [Int64: RunningJob] = [:]
    /// Per queue, jobs inserted but not yet added (for max_depth).
    var reserved: [String: Int] = [:]
    var wake: (task: Task<Void, Never>, atMs: Int64)?
    /// While set, `pump` only notes that it is wanted (`deferringPump`).
    var pumpDeferred = false
    var pumpWanted = false
    /// Enqueue calls not yet taken in by the actor.
    let inbox = Mailbox<EnqueueCall>()
    /// Enqueue calls whose jobs wait for the next store insert.
    var enqueuesToStore: [PendingEnqueue] = []
    /// The calls of the insert under way (one at a time; empty when none is).
    var enqueuesInStore: [PendingEnqueue] = []
    /// Running attempts' deadlines, by seq; entries of attempts that ended
    /// stay until due or until the heap is rebuilt.
    var deadlines = TimerHeap()
    /// Waiting jobs' times to start by (`expire_at_ms`), by seq; entries of
    /// jobs that started stay until due or until the heap is rebuilt.
    var expiries = TimerHeap()
    var positionTicker: Task<Void, Never>?
    var pruner: Task<Void, Never>?
    var retryingWrite = false

    public init(
        configuration: EngineConfiguration = EngineConfiguration(), store: any JobStore, clock: any WallClock,
        handlers: [String: any JobHandler], seed: UInt64 = UInt64.random(in: 1...UInt64.max)
    ) {
        precondition(configuration.workers >= 1, "the engine needs at least one worker")
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.handlers = handlers
        handlerTypes = Set(handlers.keys).union(configuration.remoteTypes.keys)
        rateKeys = configuration.rateKeys
        let now = clock.nowMs
        scheduler = Scheduler(configuration: configuration, nowMs: now)
        hub = EventHub(nowMs: now, replayLimit: configuration.replayedEvents, bufferBytes: configuration.subscriberBufferBytes)
        ids = JobIDGenerator(seed: seed)
        random = SeededRandom(seed: seed ^ 0xA5A5_A5A5_A5A5_A5A5)
        workers = Array(repeating: nil, count: configuration.workers)
        freeWorkers = Array((0..<configuration.workers).reversed())
    }

    // MARK: Start and stop

    /// Loads the unfinished jobs back (docs/design.md §5): SCHEDULED and QUEUED
    /// ones as they were; RUNNING ones were interrupted, so they go back to
    /// QUEUED with their attempt counted, or to FAILED if it was the last.
    /// Then starts dispatching.
    @discardableResult
    public func start() async throws(EngineError) -> RecoveryReport {
        precondition(phase == .created, "an engine starts once")
        let now = clock.nowMs
        var report = RecoveryReport()
        var interrupted: [JobRecord] = []
        var waiting = Scheduler.Loader(configuration: configuration)
        var blockedJobs: [Int64] = []
        do {
            lastJobSeq = try await store.lastSeq()
            table.reserveCapacity(try await store.unfinishedJobCount())
            // The store reads the next chunk while this one is taken in.
            for try await chunk in store.unfinishedJobs(chunkSize: 8192) {
                for var record in chunk {
                    if let problem = record.loadProblem {
                        // Taken back as it is, its sums could trap: it fails instead, once.
                        Self.failCorrupt(&record, problem, atMs: now)
                        report.corrupt.append(.init(id: record.id, problem: problem))
                        interrupted.append(record)
                        table.insert(record)
                        counts[record.queue, default: StateCounts()].move(from: nil, to: record.state)
                        continue
                    }
                    switch record.state {
                    case .running:
                        Self.interrupt(&record, atMs: now)
                        if record.state == .failed { report.failed += 1 } else { report.requeued += 1 }
                        interrupted.append(record)
                    case .scheduled:
                        report.scheduled += 1
                    case .blocked:
                        report.blocked += 1
                        blockedJobs.append(record.seq)
                    default:
                        report.queued += 1
                    }
                    table.insert(record)
                    counts[record.queue, default: StateCounts()].move(from: nil, to: record.state)
                    if record.state != .failed && record.state != .blocked { waiting.add(record) }
                    if record.attempt == 0, let expireAtMs = record.expireAtMs { watchExpiry(expireAtMs, of: record.seq) }
                }
            }
        } catch {
            throw .storage("cannot load jobs: \(error)")
        }
        scheduler.load(waiting, nowMs: now)
        do {
            queueOverrides = try await store.queueOverrides()
        } catch {
            throw .storage("cannot load the queues' run-time settings: \(error)")
        }
        for (name, override) in queueOverrides { scheduler.apply(override, toQueue: name, nowMs: now) }
        do {
            try await store.update(interrupted)
            batches = try await store.stateCountsOfUnfinishedBatches()
        } catch {
            throw .storage("cannot record interrupted jobs: \(error)")
        }
        try await linkLoadedBlockedJobs(blockedJobs)
        let missedFires = try await loadSchedules(atMs: now)
        for record in interrupted {
            let note = record.failure?.code == Self.corruptCode ? "failed at start-up: \(record.failure!.message)"
                : record.state == .failed
                ? "interrupted by a restart during its last attempt (\(record.attempt) of \(record.maxAttempts))"
                : "interrupted by a restart during attempt \(record.attempt) of \(record.maxAttempts); queued again"
            hub.publish(event(.state, record, note: note, atMs: now))
            if record.state.isTerminal { forget(record) }
        }
        phase = .running
        startPruner()
        decideLoadedBlockedJobs(blockedJobs)
        tellDependents()
        for missed in missedFires { fire(missed.name, atMs: missed.fireMs) }
        pump()
        return report
    }

    /// A job found RUNNING at start-up: its attempt was cut short. It is
    /// queued again, or FAILED if that was its last attempt.
    private static func interrupt(_ record: inout JobRecord, atMs now: Int64) {
        record.failure = .init(code: "interrupted", message: "the server stopped during attempt \(record.attempt)",
                               retryable: true)
        record.updatedAtMs = now
        if record.attempt < record.maxAttempts, let queued = record.state.after(.requeued) {
            record.state = queued
        } else {
            record.state = .failed
            record.finishedAtMs = now
        }
    }

    /// The error code of a job failed at start-up because its stored row
    /// could not be taken back.
    public static let corruptCode = "corrupt"

    private static func failCorrupt(_ record: inout JobRecord, _ problem: String, atMs now: Int64) {
        record.corruption = nil
        record.state = .failed
        record.failure = .init(code: corruptCode, message: "its stored row cannot be taken back: \(problem)", retryable: false)
        record.attempt = min(max(0, record.attempt), record.maxAttempts)
        record.finishedAtMs = now
        record.updatedAtMs = now
    }

    /// Stops taking work: new requests get UNAVAILABLE and nothing more is
    /// dispatched. Running handlers get `gracePeriodMs` to finish; then they
    /// are cancelled and their jobs stay RUNNING in the store, so the next
    /// start queues them again. Returns once every change is committed and
    /// every stream has ended.
    public func shutdown(gracePeriodMs: Int64 = 10_000) async {
        guard phase == .running || phase == .created else { return }
        phase = .stopping
        wake?.task.cancel()
        wake = nil
        positionTicker?.cancel()
        positionTicker = nil
        pruner?.cancel()
        pruner = nil
        let deadline = clock.nowMs.saturatingAdd(gracePeriodMs)
        drainWorkers(deadlineMs: deadline)
        if !running.isEmpty {
            let clock = self.clock
            let timer = Task { [weak self] in
                guard (try? await clock.sleep(untilMs: deadline)) != nil else { return }
                await self?.cancelRunning(.shutdown)
            }
            await withCheckedContinuation { runningEmptied = $0 }
            timer.cancel()
        }
        closeWorkers()
        await committed()
        for id in hub.subscribers.keys {
            hub.remove(id, reason: .failed(EngineError.unavailable("the server is shutting down")))
        }
        phase = .stopped
    }

    private func cancelRunning(_ cause: CancelCause) {
        for seq in Array(running.keys) { stop(seq, cause) }
    }

    /// Asks a running attempt to stop: a local handler's task is cancelled;
    /// a remote worker is sent a cancel (and, at shutdown, the attempt is
    /// let go at once: it stays RUNNING in the store for the next start).
    func stop(_ seq: Int64, _ cause: CancelCause) {
        guard let run = running[seq], run.cancelCause == nil || cause == .shutdown else { return }
        running[seq]?.cancelCause = cause
        switch run.runner {
        case .local(let task, _):
            task.cancel()
        case .remote(let number, let lease):
            guard let record = table[seq] else { return }
            remoteWorkers[number]?.send(.cancel(LeaseRef(jobID: record.id, attempt: record.attempt, leaseID: lease.id),
                                                cause: cause.workerCause, message: cause.description))
            if cause == .shutdown {
                letGo(seq)
            } else {
                cancelSent(seq)
            }
        }
    }

    /// Called whenever an entry leaves `running`.
    func runEnded() {
        if running.isEmpty, let waiter = runningEmptied {
            runningEmptied = nil
            waiter.resume()
        }
    }

    // MARK: Cancel

    /// Cancels a job: a SCHEDULED or QUEUED one at once (answered after the
    /// commit), a RUNNING one by cancelling its handler (it stays RUNNING
    /// until the handler stops). A finished job is answered as it is.
    public func cancel(jobID: String, reason: String = "") async throws(EngineError) -> JobView {
        if let seq = table.seq(ofJob: jobID) {
            let record = cancel(seq, reason: reason)
            await committed()
            return view(record, atMs: clock.nowMs)
        }
        do {
            guard let record = try await store.job(id: jobID) else { throw EngineError.notFound("no job \"\(jobID)\"") }
            return JobView(record: record)
        } catch let error as EngineError {
            throw error
        } catch {
            throw .storage("cannot read job \(jobID): \(error)")
        }
    }

    /// Cancels every unfinished job of a batch; answers those jobs.
    public func cancel(batchID: String, reason: String = "") async throws(EngineError) -> [JobView] {
        guard let members = table.batchMembers[batchID] else {
            let counts: StateCounts
            do { counts = try await store.stateCounts(ofBatch: batchID) } catch { throw .storage("cannot read batch \(batchID): \(error)") }
            if counts.total == 0 { throw .notFound("no batch \"\(batchID)\"") }
            return []
        }
        let records = members.map { cancel($0, reason: reason) }
        await committed()
        let now = clock.nowMs
        return records.map { view($0, atMs: now) }
    }

    /// Answers the job as the request leaves it.
    private func cancel(_ seq: Int64, reason: String) -> JobRecord {
        guard var record = table[seq] else { preconditionFailure("seq \(seq) is not in the table") }
        let note = reason.isEmpty ? "cancelled" : "cancelled: \(reason)"
        switch record.state {
        case .blocked, .scheduled, .queued:
            let now = clock.nowMs
            if record.state == .blocked { blocked[seq] = nil } else { scheduler.remove(record) }
            let old = record.state
            record.state = .cancelled
            record.finishedAtMs = now
            record.updatedAtMs = now
            record.failure = .init(code: "cancelled", message: reason.isEmpty ? "cancelled" : reason, retryable: false)
            changed(record, from: old, note: note, write: .beforeEvent, atMs: now)
            pump()
        case .running:
            stop(seq, .request(reason))
        case .succeeded, .failed, .cancelled:
            break
        }
        return record
    }

    // MARK: Recording changes

    enum Write {
        /// Already committed (enqueue).
        case none
        /// Written with the next group; the event goes out now.
        case behind
        /// The event goes out once the write is committed (terminal states).
        case beforeEvent
    }

    /// Records a job's new state (or progress) everywhere it shows: the
    /// table, the counts, its batch, the store and the subscribers.
    func changed(_ record: JobRecord, from old: JobState, note: String, write: Write, kind: JobEvent.Kind = .state,
                 atMs now: Int64) {
        table.update(record)
        if old != record.state {
            counts[record.queue, default: StateCounts()].move(from: old, to: record.state)
            if let batch = record.batchId { batches[batch]?.move(from: old, to: record.state) }
            metrics.changed(record, from: old, atMs: now)
        }
        let event = event(kind, record, note: note, atMs: now)
        switch write {
        case .none:
            hub.publish(event)
        case .behind:
            completer.add(record)
            hub.publish(event)
        case .beforeEvent:
            completer.add(record, holding: event)
        }
        writeNextGroup()
        if record.state.isTerminal && !old.isTerminal { dependencyEnded(record) }
    }

    func event(_ kind: JobEvent.Kind, _ record: JobRecord, note: String, atMs now: Int64) -> JobEvent {
        JobEvent(seq: 0, timeMs: now, kind: kind, job: view(record, atMs: now), note: note,
                 batch: record.batchId.flatMap { batchSummary($0, atMs: now) })
    }

    /// Starts writing the pending changes, unless a write is in flight (its
    /// end starts the next).
    func writeNextGroup() {
        guard !retryingWrite, let group = completer.takeGroup() else { return }
        let store = self.store
        Task.detached { [weak self] in
            let error: (any Error)?
            do {
                try await store.update(group.records)
                error = nil
            } catch let failure {
                error = failure
            }
            await self?.groupWritten(group, error: error)
        }
    }

    private func groupWritten(_ group: Completer.Group, error: (any Error)?) {
        completer.finished(group, committed: error == nil)
        guard error == nil else {
            // The store failed (disk full?): keep everything and try again shortly.
            retryingWrite = true
            let clock = self.clock
            Task.detached { [weak self] in
                try? await clock.sleep(untilMs: clock.nowMs + 1_000)
                await self?.retryWrite()
            }
            return
        }
        for held in group.held {
            hub.publish(held.event)
            // A terminal job leaves memory once its end is stored.
            if held.event.job.record.state.isTerminal, let record = table[held.seq], record.state.isTerminal { forget(record) }
        }
        for waiter in group.waiters { waiter.resume() }
        writeNextGroup()
    }

    private func retryWrite() {
        retryingWrite = false
        writeNextGroup()
    }

    /// Returns once every change recorded so far is committed.
    func committed() async {
        await withCheckedContinuation { continuation in
            completer.notify(continuation)
            writeNextGroup()
        }
    }

    /// A terminal job whose state is committed leaves memory; its batch's
    /// counts go with its last job, once every job's end is committed (a
    /// status read then comes from the store, which must agree).
    func forget(_ record: JobRecord) {
        table.remove(record.seq)
        if let batch = record.batchId, table.batchMembers[batch] == nil, batchJoining[batch] == nil {
            batches[batch] = nil
            if let key = batchKeyOfBatch.removeValue(forKey: batch) { batchKeys[key] = nil }
        }
    }
}
