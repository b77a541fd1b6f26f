/// What operators do to jobs and queues at run time (docs/api.md: Retry,
/// UpdateQueue).
extension QueueEngine {
    /// Runs a FAILED or CANCELLED job again: the same id, its attempts
    /// counted from 0, QUEUED in its first place (by priority, then
    /// enqueue order) in its queue.
    public func retry(jobID: String, reason: String = "") async throws(EngineError) -> JobView {
        guard phase == .running else { throw .unavailable("the server is shutting down") }
        // A job that has just ended stays in memory until its end is stored:
        // that first, so that its end's event comes before the retry's.
        if let record = table.record(id: jobID) {
            guard record.state.isTerminal else { throw Self.notRetryable(record) }
            await committed()
        }
        if let record = table.record(id: jobID) {
            throw record.state.isTerminal ? .failedPrecondition("job \(jobID) is being retried already") : Self.notRetryable(record)
        }
        let stored: JobRecord?
        do {
            stored = try await store.job(id: jobID)
        } catch {
            throw .storage("cannot read job \(jobID): \(error)")
        }
        // The read suspended: a retry of the same job may have come first.
        if table.record(id: jobID) != nil { throw .failedPrecondition("job \(jobID) is being retried already") }
        guard let stored else { throw .notFound("no job \"\(jobID)\"") }
        guard stored.state == .failed || stored.state == .cancelled else { throw Self.notRetryable(stored) }
        guard handlerTypes.contains(stored.type) else {
            throw .failedPrecondition("no handler for job type \"\(stored.type)\" any more: job \(jobID) cannot run")
        }
        let now = clock.nowMs
        let maxDepth = scheduler.configuration(ofQueue: stored.queue, nowMs: now).maxDepth
        let depth = (counts[stored.queue]?.waiting ?? 0) + reserved[stored.queue, default: 0]
        if maxDepth > 0 && depth >= maxDepth {
            throw .resourceExhausted("queue \"\(stored.queue)\" is full: \(depth) jobs waiting, max_depth \(maxDepth)")
        }
        var batchCounts: StateCounts?
        if let batch = stored.batchId, batches[batch] == nil {
            do { batchCounts = try await store.stateCounts(ofBatch: batch) } catch { throw .storage("cannot read batch: \(error)") }
            if table.record(id: jobID) != nil { throw .failedPrecondition("job \(jobID) is being retried already") }
        }

        let old = stored.state
        var record = stored
        record.state = .queued
        record.attempt = 0
        record.runAtMs = now
        record.updatedAtMs = now
        record.startedAtMs = nil
        record.finishedAtMs = nil
        record.result = nil
        record.failure = nil
        record.progress = .init()
        record.expireAtMs = nil  // an operator's retry is not held to the first start's deadline
        table.insert(record)
        // The queue's counts of finished jobs are since the start: the old end stays counted there.
        counts[record.queue, default: StateCounts()].move(from: nil, to: .queued)
        if let batch = record.batchId {
            if let batchCounts { batches[batch] = batchCounts }
            batches[batch]?.move(from: old, to: .queued)
        }
        scheduler.add(record, nowMs: now)
        let was = old == .failed ? "failed" : "cancelled"
        changed(record, from: .queued, note: "retried (it had \(was))" + (reason.isEmpty ? "" : ": \(reason)"),
                write: .behind, atMs: now)
        pump()
        let answer = view(record, atMs: now)
        await committed()  // answered once stored, as an enqueue is
        return answer
    }

    private static func notRetryable(_ record: JobRecord) -> EngineError {
        .failedPrecondition("job \(record.id) is \(String(describing: record.state).uppercased()): "
                            + "only FAILED or CANCELLED jobs can be retried")
    }

    /// Pauses or resumes `queue`, or sets its concurrency or rate limit
    /// (`.some(nil)`: none), over its configuration; `reset` first drops
    /// every earlier change. Stored before it applies: it holds across
    /// restarts. A paused queue takes jobs and starts none; running ones
    /// finish.
    public func updateQueue(
        _ queue: String, paused: Bool? = nil, concurrency: Int? = nil, rateLimit: RateLimit?? = nil, reset: Bool = false
    ) async throws(EngineError) -> EngineStatus.Queue {
        guard phase == .running else { throw .unavailable("the server is shutting down") }
        guard !queue.isEmpty else { throw .invalidArgument("queue is required") }
        if let problem = JobRequest.nameProblem(queue, field: "queue") { throw .invalidArgument(problem) }
        if let concurrency, concurrency < 1 { throw .invalidArgument("concurrency must be at least 1, not \(concurrency)") }
        if !scheduler.hasQueue(queue) { try refuseNewQueue(queue) }
        var override = reset ? QueueOverride() : queueOverrides[queue] ?? QueueOverride()
        if let paused { override.paused = paused ? true : nil }
        if let concurrency { override.concurrency = concurrency }
        if let rateLimit { override.rateLimit = .some(rateLimit) }
        do {
            try await store.save(override, forQueue: queue)
        } catch {
            throw .storage("cannot store the queue's settings: \(error)")
        }
        queueOverrides[queue] = override.isEmpty ? nil : override
        scheduler.apply(override, toQueue: queue, nowMs: clock.nowMs)
        pump()
        return try await status(queues: [queue], onlySelected: true).queues[0]
    }
}
