import Foundation
import SpoolCore
import Testing

/// Dependencies, batch callbacks and parents at the engine, on the manual
/// clock: what a BLOCKED job waits for, when it runs, when it is cancelled.
@Suite(.timeLimit(.minutes(1)))
struct DependencyTests {
    private func request(_ configure: (inout JobRequest) -> Void = { _ in }) -> JobRequest {
        var request = JobRequest(type: "gate")
        configure(&request)
        return request
    }

    @Test func aJobWaitsBlockedForItsDependencyThenRuns() async throws {
        let h = EngineHarness()
        try await h.start()
        let first = try await h.enqueue()
        #expect(await h.nextStart() == first)
        let second = try await h.enqueue { $0.dependsOn = [first] }
        let waiting = try await h.view(second)
        #expect(waiting.record.state == .blocked)
        #expect(waiting.wait?.kind == .dependencies && waiting.wait?.holders == [first] && waiting.wait?.ahead == 1)
        #expect(waiting.wait?.text == "waits for 1 dependency: job \(first)")
        #expect(waiting.record.dependencies == .init(jobs: [first]))
        h.gate.open(first)
        let released = try await h.until(second, is: .queued)
        #expect(released.note == "dependencies met")
        #expect(await h.nextStart() == second)
        h.gate.open(second)
        try await h.until(second, is: .succeeded)
    }

    @Test func aFailedDependencyCancelsItsDependentsAndTheirsInTurn() async throws {
        let h = EngineHarness()
        try await h.start()
        let root = try await h.enqueue { $0.maxAttempts = 1 }
        #expect(await h.nextStart() == root)
        let child = try await h.enqueue { $0.dependsOn = [root] }
        let grandchild = try await h.enqueue { $0.dependsOn = [child] }
        let anyway = try await h.enqueue { $0.dependsOn = [child]; $0.runIfDependenciesFail = true }
        h.gate.open(root, failing: .permanent("bad input"))
        let cancelled = try await h.until(child, is: .cancelled)
        #expect(cancelled.job.record.failure?.code == QueueEngine.dependencyFailedCode)
        #expect(cancelled.job.record.failure?.message == "its dependency job \(root) FAILED")
        let next = try await h.until(grandchild, is: .cancelled)
        #expect(next.job.record.failure?.message == "its dependency job \(child) CANCELLED")
        // One that runs anyway runs once its dependency ended, however.
        #expect(await h.nextStart() == anyway)
        h.gate.open(anyway)
        try await h.until(anyway, is: .succeeded)
    }

    @Test func aWholeFlowGoesInOneBatchAndRunsInItsOrder() async throws {
        let h = EngineHarness { $0.workers = 4 }
        try await h.start()
        let flow = [
            request(),                                    // 0 build
            request { $0.dependsOnItems = [0] },          // 1 test
            request { $0.dependsOnItems = [1] },          // 2 deploy a
            request { $0.dependsOnItems = [1] },          // 3 deploy b
            request { $0.dependsOnItems = [1] },          // 4 deploy c
            request { $0.dependsOnItems = [2, 3, 4] },    // 5 notify
        ]
        let result = try await h.engine.enqueue(flow, batch: BatchOptions())
        let ids = result.items.map(\.job.record.id)
        #expect(result.items.map(\.job.record.state) == [.queued, .blocked, .blocked, .blocked, .blocked, .blocked])
        #expect(try await h.view(ids[5]).record.dependencies?.jobs == [ids[2], ids[3], ids[4]])
        #expect(await h.nextStart() == ids[0])
        h.gate.open(ids[0])
        #expect(await h.nextStart() == ids[1])
        h.gate.open(ids[1])
        var deploys: Set<String> = []
        for _ in 0..<3 { deploys.insert(await h.nextStart()) }
        #expect(deploys == [ids[2], ids[3], ids[4]])
        h.gate.open(ids[2])
        h.gate.open(ids[3])
        try await h.until(ids[3], is: .succeeded)
        #expect(try await h.view(ids[5]).wait?.holders == [ids[4]])
        h.gate.open(ids[4])
        #expect(await h.nextStart() == ids[5])
        h.gate.open(ids[5])
        try await h.until(ids[5], is: .succeeded)
    }

    @Test func aDependencyThatEndedLongAgoIsReadFromTheStore() async throws {
        let h = EngineHarness()
        try await h.start()
        let good = try await h.enqueue { $0.maxAttempts = 1 }
        #expect(await h.nextStart() == good)
        h.gate.open(good)
        try await h.until(good, is: .succeeded)
        let bad = try await h.enqueue { $0.maxAttempts = 1 }
        #expect(await h.nextStart() == bad)
        h.gate.open(bad, failing: .permanent("no"))
        try await h.until(bad, is: .failed)
        _ = try await h.engine.status()  // both ends are stored and gone from memory by now
        let runs = try await h.enqueue { $0.dependsOn = [good] }
        #expect(try await h.view(runs).record.state != .blocked)
        let cancelled = try await h.enqueue { $0.dependsOn = [good, bad] }
        let event = try await h.until(cancelled, is: .cancelled)
        #expect(event.job.record.failure?.message == "its dependency job \(bad) FAILED")
        #expect(await h.nextStart() == runs)
        h.gate.open(runs)
    }

    @Test func unknownAndImpossibleDependenciesAreRefusedByName() async throws {
        let h = EngineHarness()
        try await h.start()
        let missing = "0190d7a0-0000-7000-8000-000000000000"
        await #expect(throws: EngineError.invalidArgument("depends_on names no job \"\(missing)\"")) {
            _ = try await h.enqueue { $0.dependsOn = [missing] }
        }
        await #expect(throws: EngineError.invalidArgument("depends_on_batches names no batch \"nope\"")) {
            _ = try await h.enqueue { $0.dependsOnBatches = ["nope"] }
        }
        await #expect(throws: EngineError.invalidArgument("depends_on_items is for the jobs of an EnqueueBatch")) {
            _ = try await h.enqueue { $0.dependsOnItems = [0] }
        }
        await #expect(throws: EngineError.invalidArgument(
            "jobs[1]: depends_on_items names item 1: only earlier items (0…0) can be waited for")) {
            _ = try await h.engine.enqueue([request(), request { $0.dependsOnItems = [1] }], batch: BatchOptions())
        }
        let tooMany = (0..<1_001).map { _ in missing }
        await #expect(throws: EngineError.invalidArgument(
            "the job has 1001 dependencies (depends_on, depends_on_batches, depends_on_items); the limit is 1000")) {
            _ = try await h.enqueue { $0.dependsOn = tooMany }
        }
        // Nothing was stored by the refused calls.
        #expect(try await h.engine.status().queues.allSatisfy { $0.counts.total == 0 })
    }

    @Test func aCallbackRunsOnceItsBatchEndedWithItsSummary() async throws {
        let h = EngineHarness { $0.workers = 4 }
        try await h.start()
        let jobs = [request { $0.maxAttempts = 1 }, request { $0.maxAttempts = 1 }, request { $0.maxAttempts = 1 }]
        let result = try await h.engine.enqueue(jobs, batch: BatchOptions(callback: request()))
        let ids = result.items.map(\.job.record.id)
        let callback = try #require(result.callback).job.record
        #expect(callback.state == .blocked && callback.batchId == nil)
        #expect(callback.dependencies == .init(batches: [result.batchID!], runIfFailed: true))
        for _ in 0..<3 { _ = await h.nextStart() }
        h.gate.open(ids[0])
        h.gate.open(ids[1], failing: .permanent("broken"))
        try await h.until(ids[1], is: .failed)
        #expect(try await h.view(callback.id).record.state == .blocked)
        h.gate.open(ids[2])
        #expect(await h.nextStart() == callback.id)
        let view = try await h.view(callback.id)
        let summary = try #require(view.record.dependencySummary)
        let json = try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any]
        let batch = try #require((json?["batches"] as? [[String: Any]])?.first)
        #expect(batch["batch_id"] as? String == result.batchID)
        #expect(batch["total"] as? Int == 3 && batch["succeeded"] as? Int == 2 && batch["failed"] as? Int == 1)
        #expect(batch["failed_job_ids"] as? [String] == [ids[1]])
        h.gate.open(callback.id)
        try await h.until(callback.id, is: .succeeded)
    }

    @Test func aParentsChildrenJoinItsBatchAndItsCallbackWaitsForThem() async throws {
        let h = EngineHarness { $0.workers = 4 }
        try await h.start()
        let result = try await h.engine.enqueue([request()], batch: BatchOptions(labels: ["repo": "acme"], callback: request()))
        let parent = result.items[0].job.record.id
        let batch = try #require(result.batchID)
        let callback = try #require(result.callback).job.record.id
        #expect(await h.nextStart() == parent)
        let children = try await h.engine.enqueue([request(), request()], batch: BatchOptions(labels: ["repo": "acme"], parentID: parent))
        #expect(children.batchID == batch)
        let unary = try await h.enqueue { $0.parentID = parent }
        #expect(try await h.view(unary).record.batchId == batch)
        #expect(try await h.engine.status(batchID: batch).batch?.counts.total == 4)
        h.gate.open(parent)
        try await h.until(parent, is: .succeeded)
        let childIDs = children.items.map(\.job.record.id) + [unary]
        for _ in 0..<3 { _ = await h.nextStart() }
        for id in childIDs.dropLast() { h.gate.open(id) }
        try await h.until(childIDs[1], is: .succeeded)
        #expect(try await h.view(callback).record.state == .blocked)
        h.gate.open(unary)
        #expect(await h.nextStart() == callback)
        h.gate.open(callback)
        try await h.until(callback, is: .succeeded)
        // A parent that ended takes no more children.
        await #expect(throws: EngineError.self) { _ = try await h.enqueue { $0.parentID = parent } }
    }

    @Test func aJobCannotWaitForItsOwnBatch() async throws {
        let h = EngineHarness()
        try await h.start()
        let result = try await h.engine.enqueue([request()], batch: BatchOptions())
        let parent = result.items[0].job.record.id
        #expect(await h.nextStart() == parent)
        await #expect(throws: EngineError.invalidArgument(
            "depends_on_batches names the job's own batch, which cannot end before it: use the batch's callback")) {
            _ = try await h.enqueue { $0.parentID = parent; $0.dependsOnBatches = [result.batchID!] }
        }
        h.gate.open(parent)
    }

    @Test func aBlockedJobCanBeCancelledAndExpires() async throws {
        let h = EngineHarness()
        try await h.start()
        let first = try await h.enqueue()
        #expect(await h.nextStart() == first)
        let cancelled = try await h.enqueue { $0.dependsOn = [first] }
        let expiring = try await h.enqueue { $0.dependsOn = [first]; $0.expireAtMs = h.clock.nowMs + 1_000 }
        #expect(try await h.engine.cancel(jobID: cancelled).record.state == .cancelled)
        h.clock.advance(byMs: 1_000)
        let expired = try await h.until(expiring, is: .failed)
        #expect(expired.job.record.failure?.code == "expired")
        h.gate.open(first)
        try await h.until(first, is: .succeeded)
        let counts = try await h.engine.status().queues.first { $0.name == "default" }?.counts
        #expect(counts?[.blocked] == 0 && counts?[.queued] == 0)
    }

    @Test func aLongChainIsCancelledWithoutRecursion() async throws {
        let h = EngineHarness()
        try await h.start()
        let chain = [request { $0.maxAttempts = 1 }] + (1..<5_000).map { index in request { $0.dependsOnItems = [index - 1] } }
        let result = try await h.engine.enqueue(chain, batch: BatchOptions())
        let ids = result.items.map(\.job.record.id)
        #expect(await h.nextStart() == ids[0])
        h.gate.open(ids[0], failing: .permanent("no"))
        try await h.until(ids.last!, is: .cancelled)
        #expect(try await h.engine.status(batchID: result.batchID!).batch?.counts[.cancelled] == 4_999)
    }

    @Test func aRestartLinksBlockedJobsAgainAndReleasesThoseWhoseDependencyEndedMeanwhile() async throws {
        let store = InMemoryJobStore()
        let before = EngineHarness(store: store)
        try await before.start()
        _ = try await before.engine.updateQueue("default", paused: true)
        let first = try await before.enqueue()
        let second = try await before.enqueue { $0.dependsOn = [first] }
        let third = try await before.enqueue { $0.dependsOn = [second] }
        await before.engine.shutdown()
        // The first ended, committed, but the server stopped before it told the second.
        var ended = try #require(store.stored(first))
        ended.state = .succeeded
        ended.finishedAtMs = before.clock.nowMs
        try await store.update([ended])

        let h = EngineHarness(store: store)
        let report = try await h.engine.start()
        #expect(report.blocked == 2)
        _ = try await h.engine.updateQueue("default", paused: false)
        #expect(await h.nextStart() == second)
        #expect(try await h.view(third).record.state == .blocked)
        h.gate.open(second)
        #expect(await h.nextStart() == third)
        h.gate.open(third)
        try await h.until(third, is: .succeeded)
    }

    @Test func aBatchWhoseJobsAreAllThereAlreadyAnswersTheirBatch() async throws {
        let h = EngineHarness()
        try await h.start()
        _ = try await h.engine.updateQueue("default", paused: true)
        let jobs = [request { $0.idempotencyKey = "a" }, request { $0.idempotencyKey = "b" }]
        let first = try await h.engine.enqueue(jobs, batch: BatchOptions())
        let again = try await h.engine.enqueue(jobs, batch: BatchOptions())
        #expect(again.batchID == first.batchID && again.deduplicated)
        #expect(again.items.map(\.job.record.id) == first.items.map(\.job.record.id))
        #expect(again.items.allSatisfy { $0.deduplicated })
    }
}

/// Batches made with an idempotency key: a retry answers the same batch.
@Suite(.timeLimit(.minutes(1)))
struct BatchKeyTests {
    private func jobs(_ count: Int) -> [JobRequest] { (0..<count).map { _ in JobRequest(type: "gate") } }

    @Test func aRetryWithTheKeyAnswersTheSameBatchWithTheSameJobs() async throws {
        let h = EngineHarness()
        try await h.start()
        _ = try await h.engine.updateQueue("default", paused: true)
        let first = try await h.engine.enqueue(jobs(3), batch: BatchOptions(idempotencyKey: "fanout-1"))
        #expect(!first.deduplicated)
        let again = try await h.engine.enqueue(jobs(3), batch: BatchOptions(idempotencyKey: "fanout-1"))
        #expect(again.deduplicated && again.batchID == first.batchID)
        #expect(again.items.map(\.job.record.id) == first.items.map(\.job.record.id))
        #expect(try await h.engine.status(batchID: first.batchID!).batch?.counts.total == 3)
        let other = try await h.engine.enqueue(jobs(1), batch: BatchOptions(idempotencyKey: "fanout-2"))
        #expect(other.batchID != first.batchID && !other.deduplicated)
    }

    @Test func concurrentCallsWithOneKeyMakeOneBatch() async throws {
        let h = EngineHarness()
        try await h.start()
        _ = try await h.engine.updateQueue("default", paused: true)
        let (entered, enter) = AsyncStream.makeStream(of: Void.self)
        let (released, release) = AsyncStream.makeStream(of: Void.self)
        h.store.pauseNext(.insert) {
            enter.yield()
            for await _ in released { break }
        }
        let engine = h.engine
        let first = Task { try await engine.enqueue(jobs(2), batch: BatchOptions(idempotencyKey: "k")) }
        for await _ in entered { break }  // the first call's insert is under way
        let second = Task { try await engine.enqueue(jobs(2), batch: BatchOptions(idempotencyKey: "k")) }
        for _ in 0..<1_000 { await Task.yield() }
        release.yield()
        let (a, b) = (try await first.value, try await second.value)
        #expect(a.batchID == b.batchID && b.deduplicated && !a.deduplicated)
        #expect(b.items.map(\.job.record.id) == a.items.map(\.job.record.id))
    }

    @Test func theKeyHoldsAfterTheBatchEndedAndAfterARestart() async throws {
        let store = InMemoryJobStore()
        let before = EngineHarness(store: store)
        try await before.start()
        let first = try await before.engine.enqueue(jobs(1), batch: BatchOptions(idempotencyKey: "once"))
        let id = first.items[0].job.record.id
        #expect(await before.nextStart() == id)
        before.gate.open(id)
        try await before.until(id, is: .succeeded)
        _ = try await before.engine.status()
        let ended = try await before.engine.enqueue(jobs(1), batch: BatchOptions(idempotencyKey: "once"))
        #expect(ended.deduplicated && ended.batchID == first.batchID && ended.items.first?.job.record.state == .succeeded)
        await before.engine.shutdown()
        let h = EngineHarness(store: store)
        try await h.start()
        let restarted = try await h.engine.enqueue(jobs(1), batch: BatchOptions(idempotencyKey: "once"))
        #expect(restarted.deduplicated && restarted.batchID == first.batchID && restarted.items.map(\.job.record.id) == [id])
    }

    @Test func aKeyIsNotForAJoiningCall() async throws {
        let h = EngineHarness()
        try await h.start()
        await #expect(throws: EngineError.invalidArgument("idempotency_key is for a call that makes a batch, not one that joins "
                                                          + "its parent's: give its jobs idempotency keys instead")) {
            _ = try await h.engine.enqueue(jobs(1), batch: BatchOptions(idempotencyKey: "k", parentID: "x"))
        }
    }
}

extension DependencyTests {
    @Test func theFirstItemCannotWaitForAnItem() async throws {
        let h = EngineHarness()
        try await h.start()
        await #expect(throws: EngineError.invalidArgument(
            "jobs[0]: depends_on_items names item 0: only earlier items can be waited for, and the first item has none")) {
            _ = try await h.engine.enqueue([JobRequest(type: "gate"), JobRequest(type: "gate")].enumerated().map { index, request in
                var request = request
                if index == 0 { request.dependsOnItems = [0] }
                return request
            }, batch: BatchOptions())
        }
    }
}
