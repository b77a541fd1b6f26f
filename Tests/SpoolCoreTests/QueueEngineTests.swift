import SpoolCore
import SpoolHandlers
import Testing

private func json(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite(.timeLimit(.minutes(1)))
struct QueueEngineTests {
    // MARK: Running jobs

    @Test func anEnqueuedJobIsStoredBeforeTheAnswerAndRunsToSuccess() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue("spool.echo") { $0.payload = json("hi") }
        #expect(h.store.stored(id) != nil)
        let done = try await h.until(id, is: .succeeded)
        #expect(done.job.record.result == json("hi"))
        #expect(done.job.record.attempt == 1)
        #expect(h.store.stored(id)?.state == .succeeded)
    }

    @Test func higherPriorityRunsFirstThenFIFOAndPositionsAreRanks() async throws {
        let h = EngineHarness { $0.workers = 1 }
        try await h.start()
        let blocker = try await h.enqueue()
        #expect(await h.nextStart() == blocker)
        let low = try await h.enqueue { $0.priority = 0 }
        let high = try await h.enqueue { $0.priority = 5 }
        let low2 = try await h.enqueue { $0.priority = 0 }
        #expect(try await h.view(high).position == 1)
        #expect(try await h.view(low).position == 2)
        #expect(try await h.view(low2).position == 3)
        var order: [String] = []
        h.gate.open(blocker)
        for _ in 0..<3 {
            let started = await h.nextStart()
            order.append(started)
            h.gate.open(started)
        }
        #expect(order == [high, low, low2])
    }

    @Test func queuesShareWorkersRoundRobinAndKeepTheirConcurrency() async throws {
        let h = EngineHarness {
            $0.workers = 2
            $0.queues = [QueueConfiguration(name: "a", concurrency: 1), QueueConfiguration(name: "b", concurrency: 2)]
        }
        try await h.start()
        let a1 = try await h.enqueue { $0.queue = "a" }
        let a2 = try await h.enqueue { $0.queue = "a" }
        let b1 = try await h.enqueue { $0.queue = "b" }
        // a1 runs; a2 may not (a's concurrency is 1) so b1 takes the second worker.
        let first = Set([await h.nextStart(), await h.nextStart()])
        #expect(first == [a1, b1])
        #expect(try await h.view(a2).record.state == .queued)
        h.gate.open(a1)
        #expect(await h.nextStart() == a2)
        h.gate.open(a2)
        h.gate.open(b1)
        try await h.until(a2, is: .succeeded)
    }

    @Test func theConfiguredQueuesAndTheDefaultOneAreInTheStatusBeforeTheirFirstJob() async throws {
        let h = EngineHarness { $0.queues = [QueueConfiguration(name: "images", concurrency: 2)] }
        try await h.start()
        let status = try await h.engine.status()
        #expect(status.queues.map(\.name) == ["images", "default"])
        #expect(status.queues.allSatisfy { $0.counts.total == 0 })
        #expect(try await h.engine.status(queues: ["default"]).queues.map(\.concurrency) == [4])
        await #expect(throws: EngineError.notFound(#"no queue "nosuch" (known: images, default)"#)) {
            try await h.engine.status(queues: ["nosuch"])
        }
    }

    @Test func onlySelectedAnswersWhatWasAskedAndNothingServerWide() async throws {
        let h = EngineHarness {
            $0.queues = [QueueConfiguration(name: "images", concurrency: 2)]
            $0.lockCapacities = ["gpu": 2]
        }
        try await h.start()
        let id = try await h.enqueue("gate") { $0.lockKeys = ["gpu"] }
        #expect(await h.nextStart() == id)
        let whole = try await h.engine.status(jobIDs: [id])
        #expect(!whole.queues.isEmpty && !whole.workers.isEmpty && !whole.locks.isEmpty)
        let selected = try await h.engine.status(jobIDs: [id], onlySelected: true)
        #expect(selected.jobs.map(\.record.id) == [id] && selected.jobs[0].record.state == .running)
        #expect(selected.queues.isEmpty && selected.workers.isEmpty && selected.locks.isEmpty)
        #expect(selected.rateLimiters.isEmpty && selected.remoteWorkers.isEmpty)
        let named = try await h.engine.status(queues: ["images"], onlySelected: true)
        #expect(named.queues.map(\.name) == ["images"] && named.jobs.isEmpty && named.workers.isEmpty)
    }

    // MARK: Locks and rate limits

    @Test func aLockedJobWaitsWithoutBlockingJobsBehindItAndGetsTheKeyFirst() async throws {
        let h = EngineHarness { $0.workers = 4 }
        try await h.start()
        let holder = try await h.enqueue { $0.lockKeys = ["repo"] }
        #expect(await h.nextStart() == holder)
        let waiter = try await h.enqueue { $0.lockKeys = ["repo"] }
        let other = try await h.enqueue { $0.lockKeys = ["gpu"] }
        #expect(await h.nextStart() == other)  // not held up by the waiter ahead of it
        let status = try await h.engine.status(jobIDs: [waiter])
        #expect(status.jobs[0].record.state == .queued)
        #expect(status.locks.first { $0.key == "repo" }?.holders == [holder])
        #expect(status.locks.first { $0.key == "repo" }?.waiters == 1)
        h.gate.open(holder)
        #expect(await h.nextStart() == waiter)
        h.gate.open(waiter)
        h.gate.open(other)
        try await h.until(waiter, is: .succeeded)
    }

    @Test func aRateKeyAdmitsItsBurstThenOneJobPerRefill() async throws {
        let h = EngineHarness { $0.rateKeys = ["api": RateLimit(ratePerSecond: 1, burst: 1)] }
        try await h.start()
        let first = try await h.enqueue { $0.rateKey = "api" }
        let second = try await h.enqueue { $0.rateKey = "api" }
        #expect(await h.nextStart() == first)
        #expect(try await h.view(second).record.state == .queued)
        h.clock.advance(byMs: 1_000)
        #expect(await h.nextStart() == second)
        h.gate.open(first)
        h.gate.open(second)
    }

    @Test func rateLimitedFailuresRetryAfterTheirWaitAndSlowTheBucket() async throws {
        let h = EngineHarness { $0.rateKeys = ["api": RateLimit(ratePerSecond: 10, burst: 10)] }
        try await h.start()
        let id = try await h.enqueue { $0.rateKey = "api" }
        #expect(await h.nextStart() == id)
        h.gate.open(id, failing: .retryable("429", retryAfterMs: 5_000))
        let retry = try await h.until(id, is: .scheduled)
        #expect(retry.job.record.runAtMs == h.clock.nowMs + 5_000)
        #expect(retry.job.record.failure?.code == "rate_limited")
        let limiter = try await h.engine.status().rateLimiters.first { $0.key == "api" }
        #expect(limiter?.ratePerSecond == 5)
        #expect(limiter?.configuredRatePerSecond == 10)
        h.clock.advance(byMs: 5_000)
        #expect(await h.nextStart() == id)
        h.gate.open(id)
        try await h.until(id, is: .succeeded)
        #expect(try await h.engine.status().rateLimiters.first { $0.key == "api" }?.ratePerSecond == 5.2)
    }

    // MARK: Idempotency, delays, retries, timeouts

    @Test func anIdempotencyKeyAnswersTheExistingJobEvenAfterItFinished() async throws {
        let h = EngineHarness()
        try await h.start()
        let first = try await h.engine.enqueue([{ var r = JobRequest(type: "spool.echo"); r.idempotencyKey = "k"; return r }()])
        let again = try await h.engine.enqueue([{ var r = JobRequest(type: "spool.echo"); r.idempotencyKey = "k"; return r }()])
        #expect(again.items[0].deduplicated)
        #expect(again.items[0].job.record.id == first.items[0].job.record.id)
        try await h.until(first.items[0].job.record.id, is: .succeeded)
        let later = try await h.engine.enqueue([{ var r = JobRequest(type: "spool.echo"); r.idempotencyKey = "k"; return r }()])
        #expect(later.items[0].deduplicated)
        #expect(later.items[0].job.record.state == .succeeded)
    }

    @Test func aRetryWhileTheFirstCallIsStillBeingStoredAnswersTheFirstCallsJob() async throws {
        // The first caller gives up (its deadline passed) while its insert is on its way, and
        // retries with the same key: one job, and the retry is answered with it.
        let h = EngineHarness()
        try await h.start()
        let (insertTaken, tookInsert) = AsyncStream.makeStream(of: Void.self)
        let (release, letGo) = AsyncStream.makeStream(of: Void.self)
        h.store.pauseNext(.insert) {
            tookInsert.yield()
            for await _ in release { break }
        }
        var keyed = JobRequest(type: "gate")
        keyed.idempotencyKey = "order-17"
        let first = Task { [keyed] in try await h.engine.enqueue([keyed]) }
        for await _ in insertTaken { break }
        first.cancel()
        let retry = Task { [keyed] in try await h.engine.enqueue([keyed]) }
        letGo.yield()
        let stored = try await first.value.items[0].job.record.id
        let answer = try await retry.value.items[0]
        #expect(answer.deduplicated)
        #expect(answer.job.record.id == stored)
        #expect(try await h.store.unfinishedJobs().map(\.id) == [stored])
    }

    @Test func aBatchAnswersItsNewAndDeduplicatedJobsInRequestOrder() async throws {
        let h = EngineHarness()
        try await h.start()
        let holder = try await h.enqueue("spool.echo") { $0.idempotencyKey = "taken" }
        let requests = ["a", "taken", "b", "c"].map { name in
            var request = JobRequest(type: "spool.echo", payload: Array(name.utf8))
            if name == "taken" { request.idempotencyKey = name }
            return request
        }
        let result = try await h.engine.enqueue(requests, batchLabels: [:])
        #expect(result.items.map(\.deduplicated) == [false, true, false, false])
        #expect(result.items[1].job.record.id == holder)
        for index in [0, 2, 3] {
            let id = result.items[index].job.record.id
            try await h.until(id, is: .succeeded)
            #expect(try await h.engine.status(jobIDs: [id]).jobs[0].record.result == requests[index].payload)
        }
    }

    @Test func aDelayedJobWaitsScheduledUntilItsTime() async throws {
        let h = EngineHarness()
        try await h.start()
        let runAt = h.clock.nowMs + 60_000
        let id = try await h.enqueue { $0.runAtMs = runAt }
        #expect(try await h.view(id).record.state == .scheduled)
        h.clock.advance(byMs: 59_999)
        #expect(try await h.view(id).record.state == .scheduled)
        h.clock.advance(byMs: 1)
        #expect(await h.nextStart() == id)
        h.gate.open(id)
    }

    @Test func retryableFailuresBackOffThenSucceed() async throws {
        let h = EngineHarness { $0.queueDefaults.backoff = Backoff(initialMs: 1_000, multiplier: 2, maxMs: 10_000) }
        try await h.start()
        let id = try await h.enqueue("spool.fail") { $0.payload = json(#"{"fail_attempts": 2}"#); $0.maxAttempts = 3 }
        for attempt in 1...2 {
            let retry = try await h.until(id, is: .scheduled) { $0.attempt == Int32(attempt) }
            let wait = retry.job.record.runAtMs - h.clock.nowMs
            #expect(wait >= 0 && wait <= (attempt == 1 ? 1_000 : 2_000))
            h.clock.advance(byMs: wait)
        }
        let done = try await h.until(id, is: .succeeded)
        #expect(done.job.record.attempt == 3)
    }

    @Test func permanentFailuresAndTheLastAttemptFail() async throws {
        let h = EngineHarness()
        try await h.start()
        let permanent = try await h.enqueue("spool.fail") { $0.payload = json(#"{"permanent": true}"#) }
        let failed = try await h.until(permanent, is: .failed)
        #expect(failed.job.record.attempt == 1)
        #expect(failed.job.record.failure?.retryable == false)
        let once = try await h.enqueue("spool.fail") { $0.maxAttempts = 1 }
        let last = try await h.until(once, is: .failed)
        #expect(last.job.record.failure?.retryable == true)
        #expect(last.note.contains("no attempts left"))
    }

    @Test func aTimeoutCancelsTheHandlerAndCountsAsRetryable() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue { $0.timeoutMs = 500; $0.maxAttempts = 2 }
        #expect(await h.nextStart() == id)
        h.clock.advance(byMs: 500)
        let retry = try await h.until(id, is: .scheduled)
        #expect(retry.job.record.failure?.code == "timeout")
    }

    @Test func aTimeoutStillFiresAfterManyOtherRunsHaveEndedBeforeTheirDeadlines() async throws {
        // Every run's deadline goes in one heap; ended runs' entries are dropped in rebuilds, running ones' kept.
        let h = EngineHarness { $0.workers = 2 }
        try await h.start()
        let slow = try await h.enqueue { $0.timeoutMs = 500; $0.maxAttempts = 1 }
        #expect(await h.nextStart() == slow)
        for _ in 0..<150 {
            let id = try await h.enqueue("spool.echo") { $0.timeoutMs = 10_000 }
            try await h.until(id, is: .succeeded)
        }
        h.clock.advance(byMs: 500)
        let failed = try await h.until(slow, is: .failed)
        #expect(failed.job.record.failure?.code == "timeout")
    }

    // MARK: Cancellation and backpressure

    @Test func cancellingAWaitingJobIsImmediateAndARunningOneStopsItsHandler() async throws {
        let h = EngineHarness { $0.workers = 1 }
        try await h.start()
        let running = try await h.enqueue()
        #expect(await h.nextStart() == running)
        let waiting = try await h.enqueue()
        let cancelled = try await h.engine.cancel(jobID: waiting, reason: "not needed")
        #expect(cancelled.record.state == .cancelled)
        #expect(h.store.stored(waiting)?.state == .cancelled)
        let stillRunning = try await h.engine.cancel(jobID: running, reason: "stop")
        #expect(stillRunning.record.state == .running)
        let end = try await h.until(running, is: .cancelled)
        #expect(end.job.record.failure?.message == "stop")
        await #expect(throws: EngineError.notFound("no job \"missing\"")) { try await h.engine.cancel(jobID: "missing") }
    }

    @Test func aFullQueueRefusesNewJobs() async throws {
        let h = EngineHarness { $0.workers = 1; $0.queueDefaults.maxDepth = 2 }
        try await h.start()
        try await h.enqueue { $0.runAtMs = h.clock.nowMs + 1_000 }
        try await h.enqueue { $0.runAtMs = h.clock.nowMs + 1_000 }
        await #expect(throws: EngineError.resourceExhausted("queue \"default\" is full: 2 jobs waiting, max_depth 2")) {
            try await h.enqueue()
        }
        // A batch too big for two queues names the first by name, every time.
        let batch = ["b", "a", "b", "a", "b", "a"].map { queue in
            var request = JobRequest(type: "gate")
            request.queue = queue
            return request
        }
        await #expect(throws: EngineError.resourceExhausted("queue \"a\" is full: 0 jobs waiting, max_depth 2, 3 more asked")) {
            try await h.engine.enqueue(batch, batchLabels: [:])
        }
    }

    @Test func aQueuesDepthCountsItsQueuedAndScheduledJobsNotItsRunningOnes() async throws {
        let h = EngineHarness { $0.workers = 1; $0.queueDefaults.maxDepth = 2 }
        try await h.start()
        let running = try await h.enqueue()
        #expect(await h.nextStart() == running)
        try await h.enqueue()
        try await h.enqueue { $0.runAtMs = h.clock.nowMs + 1_000 }
        await #expect(throws: EngineError.resourceExhausted("queue \"default\" is full: 2 jobs waiting, max_depth 2")) {
            try await h.enqueue()
        }
        h.gate.open(running)
    }

    @Test func badRequestsAreRefusedWithTheReason() async throws {
        let h = EngineHarness()
        try await h.start()
        await #expect(throws: EngineError.invalidArgument("type is required")) { try await h.enqueue("") }
        await #expect(throws: EngineError.invalidArgument("unknown rate_key \"x\" (none is configured)")) {
            try await h.enqueue { $0.rateKey = "x" }
        }
    }

    // MARK: Batches

    @Test func aBatchIsRefusedWholeNamingItsBadItems() async throws {
        let h = EngineHarness()
        try await h.start()
        let requests = [JobRequest(type: "spool.echo"), JobRequest(type: ""), JobRequest(type: "nope")]
        await #expect(throws: EngineError.self) { try await h.engine.enqueue(requests, batchLabels: [:]) }
        do {
            _ = try await h.engine.enqueue(requests, batchLabels: [:])
        } catch {
            #expect(error.description.hasPrefix("jobs[1]: type is required; jobs[2]: no handler for job type \"nope\""))
        }
        #expect(try await h.store.unfinishedJobs().isEmpty)
    }

    @Test func concurrentEnqueuesEachGetTheirOwnJobsAndOneKeyMakesOneJob() async throws {
        // Calls that arrive together share store inserts; each still gets its own answer.
        let h = EngineHarness()
        try await h.start()
        let answers = try await withThrowingTaskGroup(of: (Int, EnqueueResult).self) { group in
            for index in 0..<100 {
                group.addTask {
                    var request = JobRequest(type: "spool.echo", payload: Array("\(index)".utf8))
                    if index % 10 == 0 { request.idempotencyKey = "shared" }
                    return (index, try await h.engine.enqueue([request]))
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let ids = answers.values.map { $0.items[0].job.record.id }
        let shared = Set((0..<100).filter { $0 % 10 == 0 }.map { answers[$0]!.items[0].job.record.id })
        #expect(shared.count == 1)
        #expect(Set(ids).count == 91)
        #expect((0..<100).filter { $0 % 10 == 0 }.filter { answers[$0]!.items[0].deduplicated }.count == 9)
        for index in 0..<100 where index % 10 != 0 {
            let id = answers[index]!.items[0].job.record.id
            try await h.until(id, is: .succeeded, where: { _ in true })
            let status = try await h.engine.status(jobIDs: [id])
            #expect(status.jobs[0].record.result == Array("\(index)".utf8))
        }
    }

    @Test func aBatchStreamOpenedAsItsLastJobEndsStillEnds() async throws {
        // The stream's read of the batch sees the job running; the job ends and leaves memory
        // before the read comes back. The stream must not wait for an end already sent.
        let h = EngineHarness { $0.workers = 1 }
        try await h.start()
        let result = try await h.engine.enqueue([JobRequest(type: "gate")], batchLabels: [:])
        let (batch, id) = (try #require(result.batchID), result.items[0].job.record.id)
        #expect(await h.nextStart() == id)
        let (readTaken, tookRead) = AsyncStream.makeStream(of: Void.self)
        let (release, letGo) = AsyncStream.makeStream(of: Void.self)
        h.store.pauseNext(.batchRead) {
            tookRead.yield()
            for await _ in release { break }
        }
        async let stream = h.engine.subscribe(.batch(batch))
        for await _ in readTaken { break }
        h.gate.open(id)
        try await h.until(id, is: .succeeded)
        letGo.yield()
        var last: JobEvent?
        for try await event in try await stream { last = event }
        #expect(last?.job.record.state == .succeeded)
    }

    /// GetStatus for a running job and a finished one: while the finished one
    /// is read from the store, the running one finishes and leaves memory.
    /// (It once trapped on a force-unwrap there: any client could crash spoold.)
    @Test func aJobThatFinishesWhileStatusReadsAnotherFromTheStoreIsStillAnswered() async throws {
        let h = EngineHarness()
        try await h.start()
        let done = try await h.enqueue("spool.echo")
        try await h.until(done, is: .succeeded)
        let running = try await h.enqueue("gate")
        #expect(await h.nextStart() == running)
        let (readTaken, tookRead) = AsyncStream.makeStream(of: Void.self)
        let (release, letGo) = AsyncStream.makeStream(of: Void.self)
        h.store.pauseNext(.jobRead) {
            tookRead.yield()
            for await _ in release { break }
        }
        async let status = h.engine.status(jobIDs: [running, done])
        for await _ in readTaken { break }
        h.gate.open(running)
        try await h.until(running, is: .succeeded)
        letGo.yield()
        let jobs = try await status.jobs
        #expect(jobs.map(\.record.id) == [running, done])
        #expect(jobs.map(\.record.state) == [.succeeded, .succeeded])
    }

    @Test func everyEnqueuedEventOfABatchShowsTheWholeBatch() async throws {
        let h = EngineHarness { $0.workers = 1 }
        try await h.start()
        let events = try await h.engine.subscribe(.queue("default"))
        let result = try await h.engine.enqueue(Array(repeating: JobRequest(type: "gate"), count: 3), batchLabels: [:])
        var enqueued: [JobEvent] = []
        for try await event in events where event.note == "enqueued" {
            enqueued.append(event)
            if enqueued.count == 3 { break }
        }
        #expect(enqueued.map { $0.batch?.id } == Array(repeating: result.batchID, count: 3))
        #expect(enqueued.allSatisfy { $0.batch?.total == 3 && $0.batch?.counts[.queued] == 3 })
    }

    @Test func aQueueStreamMayWaitForAQueueThatHasHadNoJobYet() async throws {
        let h = EngineHarness()
        try await h.start()
        #expect(try await h.engine.status().queues.map(\.name) == ["default"])
        let events = try await h.engine.subscribe(.queue("renders"))
        let id = try await h.enqueue { $0.queue = "renders" }
        h.gate.open(id)
        var states: [JobState] = []
        for try await event in events where event.job.record.id == id && event.kind == .state {
            states.append(event.job.record.state)
            if event.job.record.state.isTerminal { break }
        }
        #expect(states == [.queued, .running, .succeeded])
    }

    @Test func anAllQueuesStreamSeesEveryQueueStartsWithTheRunningJobsAndCountsAsAStream() async throws {
        let h = EngineHarness { $0.workers = 2 }
        try await h.start()
        let running = try await h.enqueue { $0.queue = "a" }
        #expect(await h.nextStart() == running)
        let before = try await h.engine.status().progressStreams
        let events = try await h.engine.subscribe(.all)
        #expect(try await h.engine.status().progressStreams == before + 1)
        let other = try await h.enqueue { $0.queue = "b" }
        h.gate.open(other)
        var seen: [String] = []
        for try await event in events {
            seen.append("\(event.kind) \(event.job.record.queue) \(event.job.record.state)")
            if event.job.record.id == other && event.job.record.state == .succeeded { break }
        }
        #expect(seen == ["snapshot a running", "state b queued", "state b running", "state b succeeded"])
        await h.engine.unsubscribe(events)
        #expect(try await h.engine.status().progressStreams == before)
        h.gate.open(running)
    }

    @Test func aBatchIsCountedAndCancelledAsOne() async throws {
        let h = EngineHarness { $0.workers = 1 }
        try await h.start()
        let result = try await h.engine.enqueue([JobRequest(type: "gate"), JobRequest(type: "gate"), JobRequest(type: "gate")],
                                                batchLabels: ["run": "nightly"])
        let batch = try #require(result.batchID)
        #expect(result.items.allSatisfy { $0.job.record.batchId == batch && $0.job.record.labels == ["run": "nightly"] })
        let first = await h.nextStart()
        h.gate.open(first)
        try await h.until(first, is: .succeeded)
        let summary = try #require(try await h.engine.status(batchID: batch).batch)
        #expect(summary.total == 3)
        #expect(summary.counts[.succeeded] == 1)
        #expect(abs(summary.percent - 100.0 / 3) < 1e-9)
        let second = await h.nextStart()
        let cancelled = try await h.engine.cancel(batchID: batch)
        #expect(cancelled.count == 2)
        h.gate.open(second, failing: .permanent("too late"))
        try await h.until(second, is: .cancelled)
        let end = try #require(try await h.engine.status(batchID: batch).batch)
        #expect(end.counts[.cancelled] == 2 && end.counts[.succeeded] == 1 && end.percent == 100)
    }

    // MARK: Progress streams

    @Test func aStreamSendsASnapshotThenLiveEventsAndEndsAtTheTerminalState() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue("spool.sleep") { $0.payload = json(#"{"steps": 2, "step_ms": 100}"#) }
        let subscription = try await h.engine.subscribe(.jobs([id]))
        let started = try await h.until(id, is: .running).job.record.startedAtMs!
        for step in 1...2 {
            await h.clock.waitForSleeper(untilMs: started + Int64(step) * 100)
            h.clock.advance(byMs: 100)
        }
        var events: [JobEvent] = []
        for try await event in subscription { events.append(event) }
        #expect(events.first?.kind == .snapshot && events.first?.seq == 0)
        #expect(events.last?.job.record.state == .succeeded)
        let live = events.dropFirst().map(\.seq)
        #expect(live == live.sorted() && Set(live).count == live.count)
        #expect(events.contains { $0.kind == .progress && $0.job.record.progress.step == "step 2 of 2" })
    }

    @Test func resumingAfterASeqReplaysWhatWasMissedThenTheSnapshot() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue()
        let started = try await h.until(id, is: .running)
        _ = started
        let enqueued = try await h.engine.subscribe(.jobs([id]))
        var iterator = enqueued.makeAsyncIterator()
        _ = try await iterator.next()  // snapshot
        h.gate.open(id, failing: .retryable("flaky"))
        let retry = try #require(try await iterator.next())
        #expect(retry.job.record.state == .scheduled)
        await h.engine.unsubscribe(enqueued)
        let resumed = try await h.engine.subscribe(.jobs([id]), afterSeq: 1)
        var kinds: [(JobEvent.Kind, JobState)] = []
        var resumedIterator = resumed.makeAsyncIterator()
        while kinds.count < 4, let event = try await resumedIterator.next() { kinds.append((event.kind, event.job.record.state)) }
        // enqueued, dispatched, retry — then the snapshot.
        #expect(kinds.map(\.1) == [.queued, .running, .scheduled, .scheduled])
        #expect(kinds.last?.0 == .snapshot)
    }

    @Test func positionEventsTellWaitingJobsTheyMoved() async throws {
        let h = EngineHarness { $0.workers = 1; $0.positionIntervalMs = 100 }
        try await h.start()
        let blocker = try await h.enqueue()
        #expect(await h.nextStart() == blocker)
        let first = try await h.enqueue()
        let second = try await h.enqueue()
        let subscription = try await h.engine.subscribe(.jobs([second]))
        var iterator = subscription.makeAsyncIterator()
        #expect(try await iterator.next()?.job.position == 2)
        h.gate.open(blocker)
        #expect(await h.nextStart() == first)
        h.clock.advance(byMs: 100)
        let moved = try #require(try await iterator.next())
        #expect(moved.kind == .position && moved.job.position == 1)
        h.gate.open(first)
        h.gate.open(second)
    }

    @Test func etasComeFromTheQueuesMeanRunTimeAndABatchEndsAfterItsRunningJobs() async throws {
        let h = EngineHarness {
            $0.workers = 1
            $0.queueDefaults.concurrency = 1
        }
        try await h.start()
        // One run of 1000 ms gives the queue its mean run time.
        let first = try await h.enqueue()
        #expect(await h.nextStart() == first)
        h.clock.advance(byMs: 1_000)
        h.gate.open(first)
        try await h.until(first, is: .succeeded)

        let now = h.clock.nowMs
        let batch = try await h.engine.enqueue([JobRequest(type: "gate"), JobRequest(type: "gate"), JobRequest(type: "gate")],
                                               batchLabels: [:])
        let ids = batch.items.map(\.job.record.id)
        #expect(await h.nextStart() == ids[0])
        h.clock.advance(byMs: 500)
        let running = try await h.view(ids[0])
        #expect(running.etaMs == now + 1_000, "a running job without progress: its start plus the mean")
        let queued = try await h.view(ids[2])
        #expect(queued.position == 2 && queued.etaMs == now + 2_500, "position 2, one at a time from now")
        // The batch: the running job ends at its ETA, then two waiting jobs run one at a time.
        let summary = try await h.engine.status(batchID: batch.batchID!).batch
        #expect(summary?.etaMs == now + 3_000)
        #expect(summary.map { $0.etaMs >= queued.etaMs && $0.etaMs >= running.etaMs } == true)
    }

    @Test func aRunningJobsEtaComesFromItsProgress() async throws {
        let h = EngineHarness()
        try await h.start()
        let started = h.clock.nowMs
        let id = try await h.enqueue("spool.sleep") { $0.payload = json(#"{"steps": 4, "step_ms": 1000}"#) }
        await h.clock.waitForSleeper(untilMs: started + 1_000)
        h.clock.advance(byMs: 1_000)
        let quarter = try await h.until(id, is: .running) { $0.progress.fraction == 0.25 }
        #expect(quarter.job.etaMs == started + 4_000, "a quarter done after 1000 ms: 4000 ms in all")
    }

    @Test func aTerminalStateIsCommittedBeforeItsEvent() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue()
        try await h.until(id, is: .running)
        let subscription = try await h.engine.subscribe(.jobs([id]))
        h.store.failWrites(true)
        h.gate.open(id)
        var iterator = subscription.makeAsyncIterator()
        _ = try await iterator.next()  // snapshot
        // The write fails and is retried a second later; the event waits for it.
        h.clock.advance(byMs: 1_000)
        h.store.failWrites(false)
        h.clock.advance(byMs: 1_000)
        let done = try #require(try await iterator.next())
        #expect(done.job.record.state == .succeeded)
        #expect(h.store.stored(id)?.state == .succeeded)
    }

    // MARK: Recovery and shutdown

    @Test func restartQueuesInterruptedJobsAgainWithTheirAttemptCounted() async throws {
        let now = ManualClock().nowMs
        func record(_ seq: Int64, _ state: JobState, attempt: Int32, max: Int32 = 3) -> JobRecord {
            var r = JobRecord(id: "job-\(seq)", seq: seq, queue: "default", type: "gate", state: state,
                              maxAttempts: max, timeoutMs: 0, runAtMs: now, createdAtMs: now)
            r.attempt = attempt
            return r
        }
        let store = InMemoryJobStore([record(1, .running, attempt: 1), record(2, .running, attempt: 3),
                                      record(3, .queued, attempt: 0), record(4, .succeeded, attempt: 1)])
        let h = EngineHarness({ $0.workers = 1 }, store: store)
        let report = try await h.engine.start()
        #expect(report == RecoveryReport(scheduled: 0, queued: 1, requeued: 1, failed: 1))
        #expect(store.stored("job-2")?.state == .failed)
        #expect(store.stored("job-2")?.failure?.code == "interrupted")
        #expect(await h.nextStart() == "job-1")
        #expect(try await h.view("job-1").record.attempt == 2)
        h.gate.open("job-1")
        #expect(await h.nextStart() == "job-3")
        h.gate.open("job-3")
        try await h.until("job-3", is: .succeeded)
    }

    @Test func restartLoadsWaitingJobsInDispatchOrderWithTheirPositionsAndBatchCounts() async throws {
        let now = ManualClock().nowMs
        var records: [JobRecord] = []
        for seq in Int64(1)...40 {
            var record = JobRecord(id: "job-\(seq)", seq: seq, queue: seq % 2 == 0 ? "even" : "odd", type: "gate",
                                   priority: Int32(seq % 3), state: seq == 40 ? .succeeded : .queued,
                                   maxAttempts: 3, timeoutMs: 0, runAtMs: now, batchId: seq > 30 ? "tail" : nil,
                                   createdAtMs: now)
            if seq == 35 { (record.state, record.runAtMs) = (.scheduled, now + 60_000) }
            records.append(record)
        }
        let h = EngineHarness({ $0.workers = 1 }, store: InMemoryJobStore(records))
        let report = try await h.engine.start()
        #expect(report == RecoveryReport(scheduled: 1, queued: 38, requeued: 0, failed: 0))
        // The first dispatch takes one job; every other queued job keeps its rank.
        let first = await h.nextStart()
        for queue in ["even", "odd"] {
            let waiting = records.filter { $0.queue == queue && $0.state == .queued && $0.id != first }
                .sorted { QueueKey(priority: $0.priority, seq: $0.seq) < QueueKey(priority: $1.priority, seq: $1.seq) }
            for (rank, record) in waiting.enumerated() {
                #expect(try await h.view(record.id).position == rank + 1, "\(record.id) in \(queue)")
            }
        }
        let batch = try await h.engine.status(batchID: "tail").batch
        #expect(batch?.counts[.queued] == 8 && batch?.counts[.scheduled] == 1 && batch?.counts[.succeeded] == 1)
    }

    @Test func finishedJobsArePrunedOnceTheirRetentionHasPassed() async throws {
        let h = EngineHarness { $0.retentionMs = 1_000 }
        try await h.start()
        let start = h.clock.nowMs
        await h.clock.waitForSleeper(untilMs: start + 60_000)  // the pruner's first pass is over
        let old = try await h.enqueue("spool.echo")
        try await h.until(old, is: .succeeded)
        h.clock.advance(byMs: 60_000)
        let recent = try await h.enqueue("spool.echo")
        try await h.until(recent, is: .succeeded)
        await h.clock.waitForSleeper(untilMs: start + 120_000)  // its second pass is over
        #expect(h.store.stored(old) == nil)
        #expect(h.store.stored(recent)?.state == .succeeded)
        await #expect(throws: EngineError.notFound("no job \"\(old)\"")) { try await h.view(old) }
    }

    @Test func seqsKeepGrowingAcrossARestart() async throws {
        let h = EngineHarness()
        try await h.start()
        let first = try await h.enqueue("spool.echo")
        let lastBefore = try await h.until(first, is: .succeeded).seq
        await h.engine.shutdown(gracePeriodMs: 0)

        // The next start, a millisecond later, on the same store.
        let clock = ManualClock(nowMs: h.clock.nowMs + 1)
        let restarted = QueueEngine(configuration: EngineConfiguration(), store: h.store, clock: clock,
                                    handlers: BuiltinHandlers.all(clock: clock), seed: 7)
        try await restarted.start()
        let second = try await restarted.enqueue([JobRequest(type: "spool.echo")]).items[0].job.record.id
        let events = try await restarted.subscribe(.jobs([second]), afterSeq: lastBefore)
        var seqs: [UInt64] = []
        for try await event in events where event.seq > 0 { seqs.append(event.seq) }
        #expect(!seqs.isEmpty && seqs.allSatisfy { $0 > lastBefore }, "\(seqs) after \(lastBefore)")
        await restarted.shutdown(gracePeriodMs: 0)
    }

    @Test func shutdownLeavesUnfinishedRunsForTheNextStart() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue()
        #expect(await h.nextStart() == id)
        let stream = try await h.engine.subscribe(.jobs([id]))
        let graceEnds = h.clock.nowMs + 1_000
        async let stopped: Void = h.engine.shutdown(gracePeriodMs: 1_000)
        await h.clock.waitForSleeper(untilMs: graceEnds)
        h.clock.advance(byMs: 1_000)
        await stopped
        #expect(h.store.stored(id)?.state == .running)
        await #expect(throws: EngineError.unavailable("the server is shutting down")) {
            for try await _ in stream {}
        }
        await #expect(throws: EngineError.self) { try await h.enqueue() }
    }
}
