import SpoolCore
import Testing

/// Start-by deadlines (`expire_at_ms`, a queue's `max_wait`) at the engine, on the manual clock.
@Suite(.timeLimit(.minutes(1)))
struct ExpiryTests {
    @Test func aJobStillWaitingForALockAtItsExpiryFailsExpired() async throws {
        let h = EngineHarness()
        try await h.start()
        let holder = try await h.enqueue { $0.lockKeys = ["repo"] }
        #expect(await h.nextStart() == holder)
        let now = h.clock.nowMs
        let waiter = try await h.enqueue { $0.lockKeys = ["repo"]; $0.expireAtMs = now + 1_000 }
        #expect(try await h.view(waiter).record.expireAtMs == now + 1_000)
        h.clock.advance(byMs: 999)
        #expect(try await h.view(waiter).record.state == .queued)
        h.clock.advance(byMs: 1)
        let event = try await h.until(waiter, is: .failed)
        #expect(event.job.record.failure?.code == "expired" && event.job.record.failure?.retryable == false)
        #expect(event.job.record.attempt == 0 && event.job.record.startedAtMs == nil)
        h.gate.open(holder)
        try await h.until(holder, is: .succeeded)
    }

    @Test func aJobThatStartedInTimeIsNotExpiredLater() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue { $0.expireAtMs = h.clock.nowMs + 1_000 }
        #expect(await h.nextStart() == id)
        h.clock.advance(byMs: 5_000)
        h.gate.open(id)
        try await h.until(id, is: .succeeded)
    }

    @Test func aQueuesMaxWaitCountsFromTheRunTimeAndAnEarlierExpireAtWins() async throws {
        let h = EngineHarness { $0.queues = [QueueConfiguration(name: "slow", concurrency: 1)]; $0.queues[0].maxWaitMs = 500 }
        try await h.start()
        _ = try await h.engine.updateQueue("slow", paused: true)
        let now = h.clock.nowMs
        let later = try await h.enqueue { $0.queue = "slow"; $0.runAtMs = now + 2_000 }
        let sooner = try await h.enqueue { $0.queue = "slow"; $0.expireAtMs = now + 100 }
        #expect(try await h.view(later).record.expireAtMs == now + 2_500)
        #expect(try await h.view(sooner).record.expireAtMs == now + 100)
        h.clock.advance(byMs: 100)
        try await h.until(sooner, is: .failed) { $0.failure?.code == "expired" }
        h.clock.advance(byMs: 2_400)
        try await h.until(later, is: .failed) { $0.failure?.code == "expired" }
    }

    @Test func anExpiryBeforeTheRunTimeIsRefused() async throws {
        let h = EngineHarness()
        try await h.start()
        let now = h.clock.nowMs
        await #expect(throws: EngineError.invalidArgument(
            "expire_at_ms \(now + 10) is before run_at_ms \(now + 20): the job could never start")) {
            _ = try await h.enqueue { $0.runAtMs = now + 20; $0.expireAtMs = now + 10 }
        }
    }

    @Test func anExpiryOutlivesARestartAndARetryClearsIt() async throws {
        let store = InMemoryJobStore()
        let before = EngineHarness(store: store)
        try await before.start()
        _ = try await before.engine.updateQueue("default", paused: true)
        let id = try await before.enqueue { $0.expireAtMs = before.clock.nowMs + 1_000 }
        await before.engine.shutdown()
        let h = EngineHarness(store: store)
        try await h.start()
        h.clock.advance(byMs: 1_000)
        try await h.until(id, is: .failed) { $0.failure?.code == "expired" }
        _ = try await h.engine.updateQueue("default", paused: false)
        let retried = try await h.engine.retry(jobID: id)
        #expect(retried.record.expireAtMs == nil)
        #expect(await h.nextStart() == id)
        h.gate.open(id)
        try await h.until(id, is: .succeeded)
    }
}

/// A job is shown ended only once its end is stored: a status read or a
/// snapshot taken while the end is being written waits for the commit.
@Suite(.timeLimit(.minutes(1)))
struct CommittedEndTests {
    @Test func aStatusAskedWhileAnEndIsWrittenAnswersOnceItIsStored() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue { $0.maxAttempts = 1 }
        #expect(await h.nextStart() == id)
        let (writing, wrote) = AsyncStream.makeStream(of: Void.self)
        let (released, release) = AsyncStream.makeStream(of: Void.self)
        h.store.pauseNextUpdate(holding: { $0.id == id && $0.state == .failed }) {
            wrote.yield()
            for await _ in released { break }
        }
        h.gate.open(id, failing: .permanent("bad input"))
        for await _ in writing { break }  // the end is being written, not yet committed
        #expect(h.store.stored(id)?.state != .failed)
        let asked = Task {
            let view = try await h.view(id)
            return (view.record.state, h.store.stored(id)?.state)
        }
        let watched = Task {
            let events = try await h.engine.subscribe(.jobs([id]))
            var first: JobEvent?
            for try await event in events { first = event; break }
            await h.engine.unsubscribe(events)
            return (first?.job.record.state, h.store.stored(id)?.state)
        }
        // Give both calls their turns on the engine before the write may end: a
        // call that answered from memory would have done so by now.
        for _ in 0..<1_000 { await Task.yield() }
        release.yield()
        let (shown, stored) = try await asked.value
        #expect(shown == .failed && stored == .failed)
        let (snapshot, storedThen) = try await watched.value
        #expect(snapshot == .failed && storedThen == .failed)
    }
}
