import SpoolCore
import SpoolHandlers
import Testing

/// Why a waiting job waits: each reason, as status, events and ListJobs show it.
@Suite(.timeLimit(.minutes(1)))
struct WaitReasonTests {
    private func wait(_ h: EngineHarness, _ id: String) async throws -> WaitReason? {
        try await h.engine.status(jobIDs: [id], onlySelected: true).jobs[0].wait
    }

    @Test func aScheduledJobWaitsForItsRunTime() async throws {
        let h = EngineHarness()
        try await h.start()
        let runAt = h.clock.nowMs + 5_000
        let id = try await h.enqueue { $0.runAtMs = runAt }
        let reason = try #require(try await wait(h, id))
        #expect(reason.kind == .runAt && reason.untilMs == runAt)
    }

    @Test func aQueueRunningItsConcurrencyHoldsTheRestAndSaysHowManyComeFirst() async throws {
        let h = EngineHarness { $0.queues = [QueueConfiguration(name: "q", concurrency: 1)] }
        try await h.start()
        let running = try await h.enqueue { $0.queue = "q" }
        #expect(await h.nextStart() == running)
        let first = try await h.enqueue { $0.queue = "q" }
        let second = try await h.enqueue { $0.queue = "q" }
        #expect(try await wait(h, first)?.kind == .queueConcurrency)
        let reason = try #require(try await wait(h, second))
        #expect(reason.kind == .queueConcurrency && reason.ahead == 1)
        #expect(try await wait(h, running) == nil)
        h.gate.open(running)
        h.gate.open(first)
        h.gate.open(second)
        try await h.until(second, is: .succeeded)
    }

    @Test func aHeldLockNamesItsKeyItsHoldersAndTheWaitersFirst() async throws {
        let h = EngineHarness()
        try await h.start()
        let holder = try await h.enqueue { $0.lockKeys = ["repo:acme"] }
        #expect(await h.nextStart() == holder)
        let first = try await h.enqueue { $0.lockKeys = ["repo:acme"] }
        let second = try await h.enqueue { $0.lockKeys = ["repo:acme"] }
        let reason = try #require(try await wait(h, second))
        #expect(reason.kind == .lock && reason.key == "repo:acme" && reason.holders == [holder] && reason.ahead == 1)
        #expect(reason.text == "lock repo:acme held by 1 job, 1 waiting before it")
        #expect(try await wait(h, first)?.ahead == 0)
        h.gate.open(holder)
        #expect(await h.nextStart() == first)
        h.gate.open(first)
        #expect(await h.nextStart() == second)
        h.gate.open(second)
    }

    @Test func anEmptyRateKeyTellsWhenTheNextTokenComes() async throws {
        let h = EngineHarness { $0.rateKeys = ["api": RateLimit(ratePerSecond: 1, burst: 1)] }
        try await h.start()
        let first = try await h.enqueue { $0.rateKey = "api" }
        #expect(await h.nextStart() == first)
        let second = try await h.enqueue { $0.rateKey = "api" }
        let reason = try #require(try await wait(h, second))
        #expect(reason.kind == .rate && reason.key == "api" && reason.untilMs == h.clock.nowMs + 1_000)
        h.gate.open(first)
        h.clock.advance(byMs: 1_000)
        #expect(await h.nextStart() == second)
        h.gate.open(second)
    }

    @Test func busySlotsAPausedQueueAndNoRemoteWorkerAreSaid() async throws {
        let h = EngineHarness {
            $0.workers = 1
            $0.remoteTypes = ["render": RemoteTypeConfiguration()]
        }
        try await h.start()
        let running = try await h.enqueue()
        #expect(await h.nextStart() == running)
        let waiting = try await h.enqueue { $0.queue = "other" }
        #expect(try await wait(h, waiting)?.kind == .workers)
        let remote = try await h.enqueue("render")
        #expect(try await wait(h, remote)?.kind == .noWorker)
        _ = try await h.engine.updateQueue("other", paused: true)
        #expect(try await wait(h, waiting)?.kind == .paused)
        _ = try await h.engine.updateQueue("other", paused: false)
        h.gate.open(running)
        #expect(await h.nextStart() == waiting)
        h.gate.open(waiting)
    }

    @Test func aJobStreamHearsWhenItsReasonChangesThoughItsPositionDoesNot() async throws {
        let h = EngineHarness {
            $0.positionIntervalMs = 1
            $0.queues = [QueueConfiguration(name: "q", concurrency: 1)]
        }
        try await h.start()
        let blocker = try await h.enqueue { $0.queue = "q" }
        #expect(await h.nextStart() == blocker)
        _ = try await h.engine.updateQueue("q", paused: true)
        let id = try await h.enqueue { $0.queue = "q" }
        let events = try await h.engine.subscribe(.jobs([id]))
        var seen: [String] = []
        for try await event in events {
            seen.append("\(event.kind) \(event.job.position) \(event.job.wait.map { "\($0.kind)" } ?? "-")")
            if seen.count == 1 {
                // Resumed, its queue still full: the reason changes, the position (1) does not.
                _ = try await h.engine.updateQueue("q", paused: false)
                h.clock.advance(byMs: 1)
            } else {
                break
            }
        }
        #expect(seen == ["snapshot 1 paused", "position 1 queueConcurrency"])
        await h.engine.unsubscribe(events)
        h.gate.open(blocker)
        h.gate.open(id)
    }

    @Test func listedJobsCarryTheirReason() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue { $0.runAtMs = h.clock.nowMs + 9_000 }
        var query = JobQuery()
        query.states = [.scheduled]
        #expect(try await h.engine.listJobs(query).jobs.first { $0.record.id == id }?.wait?.kind == .runAt)
    }
}
