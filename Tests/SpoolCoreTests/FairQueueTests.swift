import SpoolCore
import Testing

/// Fair queues (`fair_by`): tenants take turns, on the manual clock.
@Suite(.timeLimit(.minutes(1)))
struct FairQueueTests {
    private static func harness(store: InMemoryJobStore = InMemoryJobStore()) -> EngineHarness {
        EngineHarness({
            $0.workers = 1
            var fair = QueueConfiguration(name: "fair", concurrency: 1)
            fair.fairBy = "tenant"
            $0.queues = [fair]
        }, store: store)
    }

    private func enqueue(_ h: EngineHarness, _ tenant: String, priority: Int32 = 0) async throws -> String {
        try await h.enqueue { $0.queue = "fair"; $0.labels = ["tenant": tenant]; $0.priority = priority }
    }

    /// Runs every job, one at a time, and answers the order they started in.
    private func startOrder(_ h: EngineHarness, count: Int) async throws -> [String] {
        _ = try await h.engine.updateQueue("fair", paused: false)
        var order: [String] = []
        for _ in 0..<count {
            let id = await h.nextStart()
            order.append(id)
            h.gate.open(id)
        }
        return order
    }

    @Test func oneTenantsManyJobsDoNotHoldBackAnothersOne() async throws {
        let h = Self.harness()
        try await h.start()
        _ = try await h.engine.updateQueue("fair", paused: true)
        var crowd: [String] = []
        for _ in 0..<100 { crowd.append(try await enqueue(h, "big")) }
        let small = try await enqueue(h, "small")
        #expect(try await h.view(small).position == 2)
        #expect(try await h.view(crowd[99]).position == 101)
        let order = try await startOrder(h, count: 3)
        #expect(order == [crowd[0], small, crowd[1]])
    }

    @Test func tenantsWithReadyJobsTakeTurnsAndPositionsSayTheOrder() async throws {
        let h = Self.harness()
        try await h.start()
        _ = try await h.engine.updateQueue("fair", paused: true)
        var a: [String] = [], b: [String] = []
        for _ in 0..<3 { a.append(try await enqueue(h, "a")) }
        for _ in 0..<3 { b.append(try await enqueue(h, "b")) }
        let c = try await enqueue(h, "c")
        let expected = [a[0], b[0], c, a[1], b[1], a[2], b[2]]
        for (index, id) in expected.enumerated() { #expect(try await h.view(id).position == index + 1) }
        #expect(try await startOrder(h, count: 7) == expected)
    }

    @Test func priorityComesBeforeTurns() async throws {
        let h = Self.harness()
        try await h.start()
        _ = try await h.engine.updateQueue("fair", paused: true)
        let first = try await enqueue(h, "a")
        let second = try await enqueue(h, "b")
        let urgent = try await enqueue(h, "a", priority: 10)
        #expect(try await startOrder(h, count: 3) == [urgent, first, second])
    }

    @Test func aTenantArrivingLaterIsServedWithinARound() async throws {
        let h = Self.harness()
        try await h.start()
        _ = try await h.engine.updateQueue("fair", paused: true)
        var crowd: [String] = []
        for _ in 0..<10 { crowd.append(try await enqueue(h, "big")) }
        let early = try await startOrder(h, count: 4)
        #expect(early == Array(crowd[0..<4]))
        _ = try await h.engine.updateQueue("fair", paused: true)
        let late = try await enqueue(h, "late")
        #expect(try await h.view(late).position == 2)
    }

    @Test func turnsAreHandedOutAgainAfterARestart() async throws {
        let store = InMemoryJobStore()
        let before = Self.harness(store: store)
        try await before.start()
        _ = try await before.engine.updateQueue("fair", paused: true)
        var crowd: [String] = []
        for _ in 0..<5 { crowd.append(try await enqueue(before, "big")) }
        let small = try await enqueue(before, "small")
        await before.engine.shutdown()
        let h = Self.harness(store: store)
        try await h.start()
        #expect(try await h.view(small).position == 2)
        #expect(try await startOrder(h, count: 3) == [crowd[0], small, crowd[1]])
    }

    @Test func locksHeldInAFairQueueAreReleasedWhenTheJobEnds() async throws {
        let h = EngineHarness({
            $0.workers = 2
            var fair = QueueConfiguration(name: "fair", concurrency: 2)
            fair.fairBy = "tenant"
            $0.queues = [fair]
        })
        try await h.start()
        let holder = try await h.enqueue { $0.queue = "fair"; $0.labels = ["tenant": "a"]; $0.lockKeys = ["repo"] }
        #expect(await h.nextStart() == holder)
        let waiter = try await h.enqueue { $0.queue = "fair"; $0.labels = ["tenant": "b"]; $0.lockKeys = ["repo"] }
        #expect(try await h.view(waiter).wait?.kind == .lock)
        h.gate.open(holder)
        #expect(await h.nextStart() == waiter)
        h.gate.open(waiter)
        try await h.until(waiter, is: .succeeded)
        #expect(try await h.engine.status().locks.first { $0.key == "repo" }?.holders.isEmpty != false)
    }
}
