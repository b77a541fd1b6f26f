import SpoolCore
import Testing

/// `rate_cost`: a job takes that many tokens from its rate key's bucket.
@Suite(.timeLimit(.minutes(1)))
struct RateCostTests {
    private static func harness() -> EngineHarness {
        EngineHarness { $0.workers = 8; $0.rateKeys = ["api": RateLimit(ratePerSecond: 10, burst: 50)] }
    }

    @Test func aCostlyJobWaitsUntilItsTokensAreThere() async throws {
        let h = Self.harness()
        try await h.start()
        let first = try await h.enqueue { $0.rateKey = "api"; $0.rateCost = 50 }
        #expect(await h.nextStart() == first)  // the whole burst
        let second = try await h.enqueue { $0.rateKey = "api"; $0.rateCost = 30 }
        let now = h.clock.nowMs
        let waiting = try await h.view(second)
        #expect(waiting.record.rateCost == 30)
        #expect(waiting.wait?.kind == .rate && waiting.wait?.key == "api" && waiting.wait?.untilMs == now + 3_000)
        h.clock.advance(byMs: 2_999)
        #expect(try await h.view(second).record.state == .queued)
        h.clock.advance(byMs: 1)
        #expect(await h.nextStart() == second)
        h.gate.open(first)
        h.gate.open(second)
        let limiter = try await h.engine.status().rateLimiters.first { $0.key == "api" }
        #expect(limiter.map { $0.tokens < 1 } == true)
    }

    @Test func aCheapJobBehindACostlyOneRunsOnlyAfterIt() async throws {
        let h = Self.harness()
        try await h.start()
        let drain = try await h.enqueue { $0.rateKey = "api"; $0.rateCost = 50 }
        #expect(await h.nextStart() == drain)
        let costly = try await h.enqueue { $0.rateKey = "api"; $0.rateCost = 20 }
        let cheap = try await h.enqueue { $0.rateKey = "api" }
        h.clock.advance(byMs: 1_000)  // 10 tokens: not enough for the costly job, which is first
        for _ in 0..<100 { await Task.yield() }
        #expect(try await h.view(cheap).record.state == .queued)
        h.clock.advance(byMs: 1_000)
        #expect(await h.nextStart() == costly)
        h.clock.advance(byMs: 100)
        #expect(await h.nextStart() == cheap)
        for id in [drain, costly, cheap] { h.gate.open(id) }
    }

    @Test func impossibleCostsAreRefused() async throws {
        let h = Self.harness()
        try await h.start()
        await #expect(throws: EngineError.invalidArgument(
            "rate_cost 51 is more than rate key api's burst (50): the job could never start")) {
            _ = try await h.enqueue { $0.rateKey = "api"; $0.rateCost = 51 }
        }
        await #expect(throws: EngineError.invalidArgument("rate_cost 5 needs a rate_key to take its tokens from")) {
            _ = try await h.enqueue { $0.rateCost = 5 }
        }
        await #expect(throws: EngineError.invalidArgument("rate_cost must be 0 (1 token) or more, not -1")) {
            _ = try await h.enqueue { $0.rateKey = "api"; $0.rateCost = -1 }
        }
    }

    @Test func aStoredCostAboveALoweredBurstIsHeldToTheBurst() async throws {
        var stored = JobRecord(id: "0190d7a0-0000-7000-8000-000000000001", seq: 1, queue: "default", type: "gate", state: .queued,
                               rateKey: "api", maxAttempts: 3, timeoutMs: 0, runAtMs: 0, createdAtMs: 1_000)
        stored.rateCost = 80  // enqueued when the burst was 100
        let h = EngineHarness({ $0.rateKeys = ["api": RateLimit(ratePerSecond: 10, burst: 50)] }, store: InMemoryJobStore([stored]))
        try await h.start()
        #expect(await h.nextStart() == stored.id)
        h.gate.open(stored.id)
    }
}
