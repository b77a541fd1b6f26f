import SpoolCore
import SpoolWire

// Engine values ↔ wire messages. Times are int64 ms on both sides; unset
// optionals are the proto's zero values.

extension JobRequest {
    init(_ spec: JobSpec) {
        self.init(type: spec.type, payload: spec.payload, queue: spec.queue, priority: spec.priority)
        idempotencyKey = spec.idempotencyKey
        lockKeys = spec.lockKeys
        rateKey = spec.rateKey
        maxAttempts = spec.maxAttempts
        timeoutMs = spec.timeoutMs
        runAtMs = spec.runAtMs
        labels = spec.labels
        // The rest only when set: a request keeps them out of line.
        if spec.expireAtMs != 0 { expireAtMs = spec.expireAtMs }
        if !spec.dependsOn.isEmpty { dependsOn = spec.dependsOn }
        if !spec.dependsOnBatches.isEmpty { dependsOnBatches = spec.dependsOnBatches }
        // An index past Int's range cannot name an item: kept out of range, refused by the check.
        if !spec.dependsOnItems.isEmpty { dependsOnItems = spec.dependsOnItems.map { Int(exactly: $0) ?? Int.max } }
        if spec.runIfDependenciesFail { runIfDependenciesFail = true }
        if !spec.parentId.isEmpty { parentID = spec.parentId }
        if spec.rateCost != 0 { rateCost = spec.rateCost }
    }
}

extension WireJobState {
    init(_ state: JobState) {
        self = WireJobState(rawValue: UInt32(state.rawValue)) ?? .unspecified
    }
}

extension Job {
    init(_ view: JobView) {
        self.init()
        let r = view.record
        id = r.id
        queue = r.queue
        type = r.type
        state = WireJobState(r.state)
        priority = r.priority
        attempt = r.attempt
        maxAttempts = r.maxAttempts
        position = Int64(view.position)
        progress = JobProgress(fraction: r.progress.fraction, step: r.progress.step, message: r.progress.message)
        result = r.result ?? []
        error = r.failure.map { JobError(code: $0.code, message: $0.message, retryable: $0.retryable) }
        batchId = r.batchId ?? ""
        idempotencyKey = r.idempotencyKey ?? ""
        lockKeys = r.lockKeys
        rateKey = r.rateKey ?? ""
        labels = r.labels
        runAtMs = r.runAtMs
        createdAtMs = r.createdAtMs
        startedAtMs = r.startedAtMs ?? 0
        finishedAtMs = r.finishedAtMs ?? 0
        updatedAtMs = r.updatedAtMs
        etaMs = view.etaMs
        timeoutMs = r.timeoutMs
        wait = view.wait.map(SpoolWire.WaitReason.init)
        expireAtMs = r.expireAtMs ?? 0
        if let dependencies = r.dependencies {
            dependsOn = dependencies.jobs
            dependsOnBatches = dependencies.batches
            runIfDependenciesFail = dependencies.runIfFailed
        }
        dependencySummary = r.dependencySummary ?? ""
        rateCost = r.rateCost
    }
}

extension SpoolWire.WaitReason {
    init(_ reason: SpoolCore.WaitReason) {
        self.init()
        kind = Kind(rawValue: UInt32(reason.kind.rawValue)) ?? .unspecified
        text = reason.text
        key = reason.key
        holderJobIds = reason.holders
        ahead = Int64(reason.ahead)
        untilMs = reason.untilMs
    }
}

extension JobCounts {
    init(_ counts: StateCounts) {
        self.init()
        scheduled = Int64(counts[.scheduled])
        queued = Int64(counts[.queued])
        running = Int64(counts[.running])
        succeeded = Int64(counts[.succeeded])
        failed = Int64(counts[.failed])
        cancelled = Int64(counts[.cancelled])
        blocked = Int64(counts[.blocked])
    }
}

extension SpoolWire.BatchSummary {
    init(_ summary: SpoolCore.BatchSummary) {
        self.init()
        batchId = summary.id
        total = Int64(summary.total)
        counts = JobCounts(summary.counts)
        percent = summary.percent
        etaMs = summary.etaMs
    }
}

extension ProgressEvent {
    init(_ event: JobEvent) {
        self.init()
        seq = event.seq
        timeMs = event.timeMs
        kind = switch event.kind {
        case .snapshot: .snapshot
        case .state: .state
        case .progress: .progress
        case .position: .position
        }
        job = Job(event.job)
        note = event.note
        batch = event.batch.map(SpoolWire.BatchSummary.init)
    }
}

extension QueueStatus {
    init(_ queue: EngineStatus.Queue) {
        self.init()
        name = queue.name
        counts = JobCounts(queue.counts)
        concurrency = Int32(clamping: queue.concurrency)
        maxDepth = Int64(queue.maxDepth)
        throughputPerMinute = Double(queue.throughputPerMinute)
        meanRunMs = queue.meanRunMs
        runningJobIds = queue.runningJobIDs
        paused = queue.paused
    }
}

extension GetStatusResponse {
    init(_ status: EngineStatus) {
        self.init()
        serverTimeMs = status.serverTimeMs
        queues = status.queues.map(QueueStatus.init)
        workers = status.workers.map { worker in
            var wire = WorkerSlot()
            wire.index = Int32(worker.index)
            wire.busy = worker.jobID != nil
            wire.jobId = worker.jobID ?? ""
            wire.queue = worker.queue ?? ""
            wire.sinceMs = worker.sinceMs
            return wire
        }
        rateLimiters = status.rateLimiters.map { limiter in
            var wire = RateLimiterStatus()
            wire.key = limiter.key
            wire.ratePerSecond = limiter.ratePerSecond
            wire.configuredRatePerSecond = limiter.configuredRatePerSecond
            wire.burst = limiter.burst
            wire.tokens = limiter.tokens
            wire.utilisation = limiter.utilisation
            return wire
        }
        schedules = status.schedules.map { schedule in
            var wire = ScheduleInfo()
            wire.name = schedule.name
            wire.cron = schedule.cron
            wire.timeZone = schedule.timeZone
            wire.overlap = schedule.overlap.rawValue
            wire.nextFireMs = schedule.nextFireMs
            wire.lastFireMs = schedule.lastFireMs
            wire.lastJobId = schedule.lastJobID
            wire.fired = Int64(schedule.fired)
            wire.skipped = Int64(schedule.skipped)
            wire.lastError = schedule.lastError
            return wire
        }
        locks = status.locks.map { lock in
            var wire = LockStatus()
            wire.key = lock.key
            wire.capacity = Int32(clamping: lock.capacity)
            wire.holders = lock.holders
            wire.waiters = Int64(lock.waiters)
            return wire
        }
        jobs = status.jobs.map(Job.init)
        batch = status.batch.map(SpoolWire.BatchSummary.init)
        remoteWorkers = status.remoteWorkers.map { worker in
            var wire = RemoteWorkerInfo()
            wire.workerId = worker.workerID
            wire.name = worker.name
            wire.peer = worker.peer
            wire.types = worker.types
            wire.capacity = Int32(clamping: worker.capacity)
            wire.jobIds = worker.jobIDs
            wire.labels = worker.labels
            wire.connectedAtMs = worker.connectedAtMs
            wire.lastHeartbeatMs = worker.lastHeartbeatMs
            wire.draining = worker.draining
            return wire
        }
    }
}
