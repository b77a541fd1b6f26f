// The dispatcher: starts handler tasks for the jobs the scheduler picks, and
// records what each run came to (docs/design.md §3, §6).

/// How one run of a handler ended.
enum RunOutcome: Sendable {
    case succeeded([UInt8])
    case threw(any Error)
    case timedOut
    /// A remote worker's lease ran out (`error.code: lost`).
    case lost(String)
    /// A remote worker gave the job back unstarted: its attempt is not counted.
    case released(String)
}

extension QueueEngine {
    /// Moves due SCHEDULED jobs to QUEUED, starts what can start, and sets
    /// the timer for the next thing that will change.
    func pump() {
        guard phase == .running else { return }
        guard !pumpDeferred else {
            pumpWanted = true
            return
        }
        // A pump asked for during this one (a job it ended released others) runs after it.
        pumpDeferred = true
        repeat {
            pumpWanted = false
            pumpOnce()
        } while pumpWanted && phase == .running
        pumpDeferred = false
    }

    private func pumpOnce() {
        let now = clock.nowMs
        for seq in scheduler.dueJobs(atMs: now, jobs: table) {
            guard var record = table[seq], let queued = record.state.after(.runAtReached) else { continue }
            scheduler.remove(record)
            record.state = queued
            record.updatedAtMs = now
            scheduler.add(record, nowMs: now)
            changed(record, from: .scheduled, note: "run_at reached", write: .behind, atMs: now)
        }
        expireJobsNotStartedInTime(atMs: now)
        fireDueSchedules(atMs: now)
        timeOutRunsPastTheirDeadline(atMs: now)
        endLeasesPastTheirTime(atMs: now)
        var slots = dispatchSlots()
        for (seq, place) in scheduler.nextJobs(slots: &slots, atMs: now, jobs: table) {
            start(seq, at: place, atMs: now)
        }
        armWake(atMs: now, placesFree: !slots.isEmpty)
    }

    /// Runs `body` with one pass of the dispatcher at its end, however many
    /// of its steps free a place or queue a job.
    func deferringPump(_ body: () -> Void) {
        guard !pumpDeferred else { return body() }
        pumpDeferred = true
        body()
        pumpDeferred = false
        if pumpWanted {
            pumpWanted = false
            pump()
        }
    }

    /// Cancels the handlers of attempts whose deadline has passed; each
    /// then ends as timed out (`finished`). One timer for every deadline,
    /// not one per job.
    private func timeOutRunsPastTheirDeadline(atMs now: Int64) {
        while let due = deadlines.popDue(atMs: now) {
            guard let run = running[due.seq], run.deadlineMs == due.dueMs, run.cancelCause == nil else { continue }
            stop(due.seq, .timeout)
        }
    }

    /// Fails the jobs still waiting for their first start at their
    /// `expire_at_ms`: code `expired`. One timer for every job, as for deadlines.
    private func expireJobsNotStartedInTime(atMs now: Int64) {
        while let due = expiries.popDue(atMs: now) {
            guard var record = table[due.seq], record.attempt == 0, record.expireAtMs == due.dueMs,
                  record.state == .scheduled || record.state == .queued || record.state == .blocked else { continue }
            if record.state == .blocked { blocked[record.seq] = nil } else { scheduler.remove(record) }
            let old = record.state
            record.state = .failed
            record.finishedAtMs = now
            record.updatedAtMs = now
            let message = "not started by its expire_at_ms (\(due.dueMs)): still \(String(describing: old).uppercased())"
            record.failure = .init(code: "expired", message: message, retryable: false)
            changed(record, from: old, note: "expired: \(message)", write: .beforeEvent, atMs: now)
        }
    }

    func watchExpiry(_ expireAtMs: Int64, of seq: Int64) {
        // Jobs that started leave their entries behind; rebuild before they outnumber the waiting ones.
        if expiries.count > 2 * table.count + 1024 {
            expiries = TimerHeap()
            for record in table.records where record.attempt == 0 && !record.state.isTerminal {
                if let at = record.expireAtMs { expiries.insert(.init(dueMs: at, seq: record.seq)) }
            }
        }
        expiries.insert(.init(dueMs: expireAtMs, seq: seq))
    }

    func watchDeadline(_ deadlineMs: Int64, of seq: Int64) {
        // Ended attempts leave their entries behind; rebuild before they outnumber the running ones.
        if deadlines.count > 2 * running.count + 64 {
            deadlines = TimerHeap()
            for (seq, run) in running where run.cancelCause == nil {
                if let deadlineMs = run.deadlineMs { deadlines.insert(.init(dueMs: deadlineMs, seq: seq)) }
            }
        }
        deadlines.insert(.init(dueMs: deadlineMs, seq: seq))
    }

    private func armWake(atMs now: Int64, placesFree: Bool) {
        let earliest = [scheduler.nextWakeMs(atMs: now, workerFree: placesFree, jobs: table), deadlines.earliest?.dueMs,
                        leaseTimers.earliest?.dueMs, expiries.earliest?.dueMs, nextScheduleFireMs].compactMap { $0 }.min()
        guard let next = earliest else {
            wake?.task.cancel()
            wake = nil
            return
        }
        let at = max(next, now + 1)
        if let wake, wake.atMs <= at { return }
        wake?.task.cancel()
        let clock = self.clock
        wake = (Task.detached { [weak self] in
            guard (try? await clock.sleep(untilMs: at)) != nil else { return }
            await self?.woke(at: at)
        }, at)
    }

    private func woke(at: Int64) {
        if wake?.atMs == at { wake = nil }
        pump()
    }

    private func start(_ seq: Int64, at place: DispatchSlots.Place, atMs now: Int64) {
        guard var record = table[seq], let runningState = record.state.after(.dispatched) else {
            preconditionFailure("seq \(seq) was dispatched but is not QUEUED")
        }
        record.state = runningState
        record.attempt += 1
        record.startedAtMs = now
        record.updatedAtMs = now
        record.progress = .init()
        let deadline = record.timeoutMs > 0 ? now.saturatingAdd(record.timeoutMs) : nil
        if case .remote(let number) = place {
            startRemote(&record, on: number, deadlineMs: deadline, atMs: now)
            return
        }
        let slot = freeWorkers.removeLast()
        workers[slot] = Worker(seq: seq, sinceMs: now)
        changed(record, from: .queued, note: "attempt \(record.attempt) of \(record.maxAttempts)", write: .behind, atMs: now)

        let job = record
        let handler = handlers[record.type]
        let store = self.store
        let task = Task.detached { [weak self] in
            let outcome = await Self.run(job, handler: handler, store: store) {
                [weak self] progress in await self?.reported(progress, seq: seq, attempt: job.attempt)
            }
            await self?.finished(seq, attempt: job.attempt, outcome: outcome)
        }
        if let deadline { watchDeadline(deadline, of: seq) }
        running[seq] = RunningJob(runner: .local(task: task, slot: slot), batchID: job.batchId, deadlineMs: deadline)
    }

    /// Runs one attempt outside the actor: loads the payload and runs the
    /// handler. Returns once the handler has stopped; the engine cancels
    /// this task at the deadline.
    private nonisolated static func run(
        _ job: JobRecord, handler: (any JobHandler)?, store: any JobStore,
        reporter: @escaping @Sendable (JobRecord.Progress) async -> Void
    ) async -> RunOutcome {
        guard let handler else {
            return .threw(JobFailure.permanent("no handler for job type \"\(job.type)\" on this server"))
        }
        let payload: [UInt8]
        do {
            guard let stored = try await store.payload(ofJobSeq: job.seq) else {
                return .threw(JobFailure.permanent("the job's payload is missing from storage"))
            }
            payload = stored
        } catch {
            return .threw(JobFailure.retryable("cannot read the payload: \(error)"))
        }
        let context = JobContext(id: job.id, type: job.type, attempt: job.attempt, payload: payload, labels: job.labels,
                                 batchID: job.batchId ?? "", dependencySummary: job.dependencySummary ?? "", reporter: reporter)
        do { return .succeeded(try await handler.run(context)) } catch { return .threw(error) }
    }

    func reported(_ progress: JobRecord.Progress, seq: Int64, attempt: Int32) {
        guard var record = table[seq], record.state == .running, record.attempt == attempt,
              running[seq]?.cancelCause == nil else { return }
        let now = clock.nowMs
        record.progress = progress
        record.updatedAtMs = now
        changed(record, from: .running, note: "", write: .behind, kind: .progress, atMs: now)
    }

    /// Records how a run ended: SUCCEEDED; CANCELLED if it was asked to stop;
    /// SCHEDULED for a retry if the failure is retryable and attempts are
    /// left; else FAILED. A run stopped by shutdown leaves its job RUNNING in
    /// the store, for the next start to queue again.
    func finished(_ seq: Int64, attempt: Int32, outcome: RunOutcome) {
        guard var record = table[seq], record.state == .running, record.attempt == attempt,
              let run = running.removeValue(forKey: seq) else { return }
        let now = clock.nowMs
        freePlace(of: run, seq: seq)
        scheduler.finished(record, nowMs: now)
        defer {
            runEnded()
            pump()
        }
        record.updatedAtMs = now
        let runMs = now - (record.startedAtMs ?? now)
        // Past its deadline the attempt has timed out, whatever the handler answered when stopped.
        let outcome = run.cancelCause == .timeout ? .timedOut : outcome

        if case .succeeded(let result) = outcome {
            record.state = .succeeded
            record.result = result
            record.progress.fraction = 1
            record.finishedAtMs = now
            scheduler.succeeded(record, atMs: now)
            stats[record.queue, default: QueueStats()].finished(atMs: now, runMs: runMs)
            changed(record, from: .running, note: "succeeded in \(runMs) ms", write: .beforeEvent, atMs: now)
            return
        }
        if case .released(let reason) = outcome, run.cancelCause == nil || run.cancelCause == .shutdown,
           let queued = record.state.after(.requeued) {
            // Never started: the attempt is given back, and the job keeps its place.
            record.attempt -= 1
            record.state = queued
            record.startedAtMs = nil
            scheduler.add(record, nowMs: now)
            changed(record, from: .running, note: "given back unstarted by its worker (\(reason)); queued again",
                    write: .behind, atMs: now)
            return
        }
        switch run.cancelCause {
        case .shutdown:
            return
        case .timeout:
            break
        case .request(let reason):
            record.state = .cancelled
            record.finishedAtMs = now
            record.failure = .init(code: "cancelled", message: reason.isEmpty ? "cancelled while running" : reason,
                                   retryable: false)
            stats[record.queue, default: QueueStats()].finished(atMs: now, runMs: nil)
            changed(record, from: .running, note: reason.isEmpty ? "cancelled" : "cancelled: \(reason)",
                    write: .beforeEvent, atMs: now)
            return
        case nil:
            break
        }

        var retryAfterMs: Int64?
        switch outcome {
        case .succeeded:
            preconditionFailure("handled above")
        case .timedOut:
            record.failure = .init(code: "timeout", message: "attempt \(attempt) ran past its timeout of \(record.timeoutMs) ms",
                                   retryable: true)
        case .lost(let message):
            record.failure = .init(code: "lost", message: message, retryable: true)
        case .released(let reason):
            // Given back after a cancel was asked: the cancel's cause decided above.
            record.failure = .init(code: "handler", message: "given back by its worker: \(reason)", retryable: true)
        case .threw(JobFailure.retryable(let message, let after)):
            record.failure = .init(code: after == nil ? "handler" : "rate_limited", message: message, retryable: true)
            if let after {
                // A worker's word, held to the limit of any delay.
                let after = JobLimits.clampedDurationMs(after)
                retryAfterMs = after
                scheduler.rateLimited(record, retryAfterMs: after, atMs: now)
            }
        case .threw(JobFailure.permanent(let message)):
            record.failure = .init(code: "handler", message: message, retryable: false)
        case .threw(let error):
            record.failure = .init(code: "handler", message: String(describing: error), retryable: true)
        }
        let failure = record.failure!
        if failure.retryable && record.attempt < record.maxAttempts, let scheduled = record.state.after(.retry) {
            let backoff = scheduler.configuration(ofQueue: record.queue, nowMs: now).backoff
            let delay = retryAfterMs ?? backoff.delayMs(afterAttempt: Int(record.attempt), using: &random)
            record.state = scheduled
            record.runAtMs = now.saturatingAdd(delay)
            scheduler.add(record, nowMs: now)
            changed(record, from: .running, note: "attempt \(attempt) of \(record.maxAttempts) failed (\(failure.code): "
                    + "\(failure.message)); retrying in \(delay) ms", write: .behind, atMs: now)
        } else {
            record.state = .failed
            record.finishedAtMs = now
            stats[record.queue, default: QueueStats()].finished(atMs: now, runMs: nil)
            let why = failure.retryable ? "no attempts left" : "permanent failure"
            changed(record, from: .running, note: "attempt \(attempt) of \(record.maxAttempts) failed (\(failure.code): "
                    + "\(failure.message)); \(why)", write: .beforeEvent, atMs: now)
        }
    }

    // MARK: Retention

    /// Prunes terminal jobs older than the retention period, a small batch
    /// at a time, once a minute.
    func startPruner() {
        let clock = self.clock, store = self.store, retention = configuration.retentionMs
        pruner = Task.detached {
            while !Task.isCancelled {
                while !Task.isCancelled,
                      let pruned = try? await store.pruneFinished(beforeMs: clock.nowMs - retention, limit: 1_000),
                      pruned == 1_000 {}
                guard (try? await clock.sleep(untilMs: clock.nowMs + 60_000)) != nil else { return }
            }
        }
    }
}
