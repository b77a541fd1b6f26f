import SpoolCore
import SpoolHandlers
import Testing

/// Retry, UpdateQueue and ListJobs at the engine (manual clock, in-memory store).
@Suite(.timeLimit(.minutes(1)))
struct AdminTests {
    @Test func aFailedJobRetriedRunsAgainUnderItsIdWithFreshAttempts() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue { $0.maxAttempts = 1 }
        h.gate.open(id, failing: .permanent("bad input"))
        try await h.until(id, is: .failed)
        let events = try await h.engine.subscribe(.queue("default"))
        let retried = try await h.engine.retry(jobID: id, reason: "input fixed")
        #expect(retried.record.id == id && retried.record.state == .queued && retried.record.attempt == 0)
        #expect(retried.record.failure == nil && retried.record.finishedAtMs == nil)
        #expect(await h.nextStart() == id)
        h.gate.open(id)
        var notes: [String] = []
        for try await event in events where event.kind == .state {
            notes.append("\(event.job.record.state) \(event.note)")
            if event.job.record.state == .succeeded { break }
        }
        await h.engine.unsubscribe(events)
        #expect(notes.contains("queued retried (it had failed): input fixed"))
        #expect(notes.last?.hasPrefix("succeeded") == true)
    }

    @Test func aCancelledJobThatIsOnlyInTheStoreIsReadBackAndRuns() async throws {
        let store = InMemoryJobStore()
        let before = EngineHarness(store: store)
        try await before.start()
        let id = try await before.enqueue { $0.runAtMs = 1_000_000 }
        _ = try await before.engine.cancel(jobID: id)
        await before.engine.shutdown()
        // A new engine on the same store: the job is in no one's memory.
        let h = EngineHarness(store: store)
        try await h.start()
        let retried = try await h.engine.retry(jobID: id)
        #expect(retried.record.state == .queued && retried.record.runAtMs == h.clock.nowMs)
        #expect(await h.nextStart() == id)
        h.gate.open(id)
        try await h.until(id, is: .succeeded)
    }

    @Test func onlyFailedOrCancelledJobsCanBeRetried() async throws {
        let h = EngineHarness()
        try await h.start()
        let running = try await h.enqueue()
        #expect(await h.nextStart() == running)
        await #expect(throws: EngineError.failedPrecondition("job \(running) is RUNNING: only FAILED or CANCELLED jobs can be retried")) {
            try await h.engine.retry(jobID: running)
        }
        h.gate.open(running)
        try await h.until(running, is: .succeeded)
        await #expect(throws: EngineError.self) { try await h.engine.retry(jobID: running) }
        await #expect(throws: EngineError.notFound("no job \"nope\"")) { try await h.engine.retry(jobID: "nope") }
    }

    @Test func aPausedQueueTakesJobsStartsNoneAndResumesWhereItWas() async throws {
        let h = EngineHarness()
        try await h.start()
        let status = try await h.engine.updateQueue("default", paused: true)
        #expect(status.paused)
        let first = try await h.enqueue()
        let second = try await h.enqueue()
        #expect(try await h.view(second).position == 2)
        #expect(try await h.engine.status().queues[0].counts[.running] == 0)
        _ = try await h.engine.updateQueue("default", paused: false)
        // Both start (their handlers' tasks may report in either order).
        #expect(Set([await h.nextStart(), await h.nextStart()]) == [first, second])
        h.gate.open(first)
        h.gate.open(second)
        try await h.until(second, is: .succeeded)
    }

    @Test func concurrencyAndRateChangeAtRunTimeAndHoldAcrossARestart() async throws {
        let store = InMemoryJobStore()
        let h = EngineHarness({ $0.queues = [QueueConfiguration(name: "q", concurrency: 1)] }, store: store)
        try await h.start()
        let a = try await h.enqueue { $0.queue = "q" }
        let b = try await h.enqueue { $0.queue = "q" }
        #expect(await h.nextStart() == a)
        let raised = try await h.engine.updateQueue("q", concurrency: 2, rateLimit: .some(RateLimit(ratePerSecond: 100)))
        #expect(raised.concurrency == 2)
        #expect(await h.nextStart() == b)
        #expect(try await h.engine.status().rateLimiters.map(\.key) == ["queue:q"])
        _ = try await h.engine.updateQueue("q", paused: true)
        h.gate.open(a)
        h.gate.open(b)
        try await h.until(b, is: .succeeded)
        await h.engine.shutdown()

        let restarted = EngineHarness({ $0.queues = [QueueConfiguration(name: "q", concurrency: 1)] }, store: store)
        try await restarted.start()
        let queue = try await restarted.engine.status(queues: ["q"]).queues[0]
        #expect(queue.paused && queue.concurrency == 2)
        let reset = try await restarted.engine.updateQueue("q", reset: true)
        #expect(!reset.paused && reset.concurrency == 1)
        #expect(try await restarted.engine.status().rateLimiters.isEmpty)
        #expect(try await store.queueOverrides().isEmpty)
    }

    @Test func badQueueUpdatesAreRefusedAndChangeNothing() async throws {
        let h = EngineHarness()
        try await h.start()
        await #expect(throws: EngineError.self) { try await h.engine.updateQueue("", paused: true) }
        await #expect(throws: EngineError.self) { try await h.engine.updateQueue("q", concurrency: 0) }
        h.store.failWrites(true)
        await #expect(throws: EngineError.self) { try await h.engine.updateQueue("default", paused: true) }
        h.store.failWrites(false)
        #expect(try await h.engine.status().queues.allSatisfy { !$0.paused })
    }

    @Test func listedJobsShowWhatTheEngineKnowsNow() async throws {
        let h = EngineHarness { $0.workers = 1 }
        try await h.start()
        let running = try await h.enqueue { $0.labels = ["repo": "x"] }
        let waiting = try await h.enqueue { $0.labels = ["repo": "x"] }
        #expect(await h.nextStart() == running)
        var query = JobQuery()
        query.labels = ["repo": "x"]
        let page = try await h.engine.listJobs(query)
        #expect(page.jobs.map(\.record.id) == [waiting, running])
        #expect(page.jobs.map(\.record.state) == [.queued, .running])
        #expect(page.jobs[0].position == 1 && page.total == 2)
        query.pageSize = 0
        await #expect(throws: EngineError.self) { try await h.engine.listJobs(query) }
        h.gate.open(running)
        h.gate.open(waiting)
    }
}

extension AdminTests {
    @Test func aJobStreamOpenedRightAfterARetryFollowsTheNewRunToItsEnd() async throws {
        let h = EngineHarness()
        try await h.start()
        for _ in 0..<50 {
            let id = try await h.enqueue("spool.fail") { $0.maxAttempts = 1; $0.payload = Array(#"{"fail_attempts": 1}"#.utf8) }
            try await h.until(id, is: .failed)
            _ = try await h.engine.retry(jobID: id)
            let events = try await h.engine.subscribe(.jobs([id]))
            var log: [String] = []
            for try await event in events { log.append("\(event.kind) \(event.job.record.state)") }
            #expect(log.last?.hasSuffix(" failed") == true, "\(log)")
        }
    }
}

/// Clients cannot grow the server by naming queues: past max_queues a new one is refused.
@Suite(.timeLimit(.minutes(1)))
struct QueueLimitTests {
    @Test func aNewQueuePastMaxQueuesIsRefusedAndExistingOnesStillServe() async throws {
        let h = EngineHarness { $0.maxQueues = 3 }  // "default" is there from the start
        try await h.start()
        _ = try await h.enqueue { $0.queue = "a"; $0.runAtMs = 1_000_000 }
        _ = try await h.enqueue { $0.queue = "b"; $0.runAtMs = 1_000_000 }
        await #expect(throws: EngineError.self) { _ = try await h.enqueue { $0.queue = "c" } }
        do {
            _ = try await h.enqueue { $0.queue = "c" }
        } catch {
            guard case .resourceExhausted(let message) = error as? EngineError else { throw error }
            #expect(message.contains("queue \"c\" would be a new queue, and there are 3") && message.contains("max_queues 3"))
        }
        _ = try await h.enqueue { $0.queue = "a"; $0.runAtMs = 1_000_000 }
        await #expect(throws: EngineError.self) { _ = try await h.engine.updateQueue("d", paused: true) }
        #expect(try await h.engine.updateQueue("b", paused: true).paused)
        #expect(try await h.engine.status().queues.map(\.name).sorted() == ["a", "b", "default"])
    }
}
