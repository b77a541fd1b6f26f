import SpoolCore
import Testing

/// A remote worker as the engine sees it: the commands it is sent, in
/// order. Used by one test task at a time.
final class FakeWorker: @unchecked Sendable {
    let commands: AsyncStream<WorkerCommand>
    private let continuation: AsyncStream<WorkerCommand>.Continuation
    private var iterator: AsyncStream<WorkerCommand>.Iterator
    let number: Int64
    let engine: QueueEngine

    init(_ engine: QueueEngine, types: [String] = ["render"], capacity: Int = 1, name: String = "fake") async throws {
        (commands, continuation) = AsyncStream.makeStream()
        iterator = commands.makeAsyncIterator()
        self.engine = engine
        let continuation = self.continuation
        number = try await engine.connectWorker(WorkerHello(name: name, types: types, capacity: capacity, peer: "test")) {
            continuation.yield($0)
        }
        guard case .welcome = await next() else { preconditionFailure("the first command is not a welcome") }
    }

    /// The next command sent to this worker.
    func next() async -> WorkerCommand {
        await iterator.next()!
    }

    func nextAssignment() async -> JobAssignment {
        let command = await next()
        guard case .assign(let assignment) = command else {
            Issue.record("expected an assignment, got \(command)")
            preconditionFailure()
        }
        return assignment
    }

    func finish(_ assignment: JobAssignment, _ outcome: WorkerOutcome = .succeeded(result: Array("ok".utf8))) async {
        await engine.workerFinished(number, assignment.lease, outcome)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct RemoteWorkerTests {
    static let leaseMs: Int64 = 30_000

    func harness(_ configure: (inout EngineConfiguration) -> Void = { _ in }) -> EngineHarness {
        EngineHarness {
            $0.remoteTypes = ["render": RemoteTypeConfiguration(leaseMs: Self.leaseMs),
                              "mail": RemoteTypeConfiguration(leaseMs: Self.leaseMs)]
            configure(&$0)
        }
    }

    @Test func reportsHandedOverTogetherAreTakenInOrder() async throws {
        let h = harness { $0.queueDefaults.concurrency = 4 }
        try await h.start()
        let ids = [try await h.enqueue("render"), try await h.enqueue("render"), try await h.enqueue("render")]
        let worker = try await FakeWorker(h.engine, capacity: 2)
        let a = await worker.nextAssignment(), b = await worker.nextAssignment()
        await h.engine.workerReports(worker.number, [
            .progress(a.lease, JobRecord.Progress(fraction: 0.5, step: "half")),
            .finished(a.lease, .succeeded(result: [1])),
            .finished(b.lease, .failed(message: "bad input", permanent: true, retryAfterMs: nil)),
            .disconnected,
        ])
        #expect(try await h.until(ids[0], is: .succeeded).job.record.result == [1])
        #expect(try await h.until(ids[1], is: .failed).job.record.failure?.message == "bad input")
        // Gone by the end of the reports: the third job waits for another worker.
        #expect(try await h.view(ids[2]).record.state == .queued)
        #expect(try await h.engine.status().remoteWorkers.isEmpty)
    }

    @Test func aRemoteJobWaitsQueuedWithItsPositionUntilAWorkerConnectsThenRunsThere() async throws {
        let h = harness()
        try await h.start()
        let first = try await h.enqueue("render") { $0.payload = Array("one".utf8) }
        let second = try await h.enqueue("render")
        #expect(try await h.view(first).record.state == .queued)
        #expect(try await h.view(second).position == 2)

        let worker = try await FakeWorker(h.engine)
        let assignment = await worker.nextAssignment()
        #expect(assignment.lease.jobID == first)
        #expect(assignment.lease.attempt == 1)
        #expect(assignment.payload == Array("one".utf8))
        #expect(assignment.leaseMs == Self.leaseMs)
        #expect(try await h.view(second).position == 1)

        await worker.finish(assignment)
        let done = try await h.until(first, is: .succeeded)
        #expect(done.job.record.result == Array("ok".utf8))
        // Capacity 1: the second job came only once the first was answered.
        #expect(await worker.nextAssignment().lease.jobID == second)
    }

    @Test func localJobsBehindAWaitingRemoteJobStillRun() async throws {
        let h = harness()
        try await h.start()
        let remote = try await h.enqueue("render")
        let local = try await h.enqueue("spool.echo")
        try await h.until(local, is: .succeeded)
        #expect(try await h.view(remote).record.state == .queued)
        #expect(try await h.view(remote).position == 1)
    }

    @Test func aWorkerGetsOnlyItsTypesAndAtMostItsCapacity() async throws {
        let h = harness()
        try await h.start()
        let mail = try await h.enqueue("mail")
        let renders = [try await h.enqueue("render"), try await h.enqueue("render"), try await h.enqueue("render")]
        let worker = try await FakeWorker(h.engine, types: ["render"], capacity: 2)
        let got = [await worker.nextAssignment(), await worker.nextAssignment()]
        #expect(got.map(\.lease.jobID) == Array(renders.prefix(2)))
        #expect(try await h.view(renders[2]).record.state == .queued)
        #expect(try await h.view(mail).record.state == .queued)
        let status = try await h.engine.status()
        #expect(status.remoteWorkers.count == 1)
        #expect(status.remoteWorkers[0].jobIDs == Array(renders.prefix(2)).sorted())
        #expect(status.remoteWorkers[0].capacity == 2)
    }

    @Test func aLockKeyIsHeldAcrossLocalAndRemoteJobs() async throws {
        let h = harness()
        try await h.start()
        let worker = try await FakeWorker(h.engine)
        let local = try await h.enqueue("gate") { $0.lockKeys = ["repo"] }
        #expect(await h.nextStart() == local)
        let remote = try await h.enqueue("render") { $0.lockKeys = ["repo"] }
        #expect(try await h.view(remote).record.state == .queued)
        h.gate.open(local)
        #expect(await worker.nextAssignment().lease.jobID == remote)
        // And the other way round: the remote holder keeps a local job waiting.
        let waitingLocal = try await h.enqueue("gate") { $0.lockKeys = ["repo"] }
        #expect(try await h.view(waitingLocal).record.state == .queued)
    }

    @Test func aRateKeyIsSharedByLocalAndRemoteJobs() async throws {
        // One token a second, burst 1: the local job takes it; the remote job waits for the next.
        let h = harness { $0.rateKeys = ["api": RateLimit(ratePerSecond: 1, burst: 1)] }
        try await h.start()
        let worker = try await FakeWorker(h.engine)
        let local = try await h.enqueue("gate") { $0.rateKey = "api" }
        #expect(await h.nextStart() == local)
        let remote = try await h.enqueue("render") { $0.rateKey = "api" }
        h.clock.advance(byMs: 999)
        #expect(try await h.view(remote).record.state == .queued)
        h.clock.advance(byMs: 1)
        #expect(await worker.nextAssignment().lease.jobID == remote)
        // And the other way round: the remote job took the token, so a local one waits.
        let waitingLocal = try await h.enqueue("gate") { $0.rateKey = "api" }
        #expect(try await h.view(waitingLocal).record.state == .queued)
        h.clock.advance(byMs: 1000)
        #expect(await h.nextStart() == waitingLocal)
    }

    @Test func aWorkerThatVanishesLosesItsJobAfterTheLeaseAndALateAnswerIsRefused() async throws {
        let h = harness()
        try await h.start()
        let id = try await h.enqueue("render")
        let worker = try await FakeWorker(h.engine)
        let assignment = await worker.nextAssignment()
        await h.engine.disconnectWorker(worker.number)
        // Within the lease it is still the worker's.
        h.clock.advance(byMs: Self.leaseMs - 1)
        #expect(try await h.view(id).record.state == .running)
        h.clock.advance(byMs: 1)
        let retried = try await h.until(id, is: .scheduled)
        #expect(retried.job.record.failure?.code == "lost")
        #expect(retried.job.record.attempt == 1)

        // A second worker runs attempt 2; the first one's answer changes nothing.
        h.clock.advance(byMs: 60_000)
        let other = try await FakeWorker(h.engine, name: "other")
        let second = await other.nextAssignment()
        #expect(second.lease.attempt == 2)
        await worker.finish(assignment)
        await other.finish(second)
        let done = try await h.until(id, is: .succeeded)
        #expect(done.job.record.attempt == 2)
    }

    @Test func heartbeatsRenewTheLeaseAndSilenceEndsIt() async throws {
        let h = harness()
        try await h.start()
        let id = try await h.enqueue("render")
        let worker = try await FakeWorker(h.engine)
        let assignment = await worker.nextAssignment()
        for _ in 0..<3 {
            h.clock.advance(byMs: Self.leaseMs * 2 / 3)
            await h.engine.workerHeartbeat(worker.number)
        }
        #expect(try await h.view(id).record.state == .running)
        h.clock.advance(byMs: Self.leaseMs)
        let lost = try await h.until(id, is: .scheduled)
        #expect(lost.job.record.failure?.message.contains("sent no heartbeat") == true)
        // A live stream that stopped beating is closed.
        guard case .close = await worker.next() else { Issue.record("no close"); return }
        await worker.finish(assignment)
        #expect(try await h.view(id).record.state == .scheduled)
    }

    @Test func aStaleAnswerForAnOlderAttemptOrAnotherLeaseIsRefused() async throws {
        let h = harness()
        try await h.start()
        let id = try await h.enqueue("render")
        let worker = try await FakeWorker(h.engine)
        let assignment = await worker.nextAssignment()
        var forged = assignment.lease
        forged.leaseID = "forged"
        await h.engine.workerFinished(worker.number, forged, .succeeded(result: []))
        guard case .refused(_, .unknownLease, _) = await worker.next() else { Issue.record("not refused"); return }
        var older = assignment.lease
        older.attempt = 0
        await h.engine.workerFinished(worker.number, older, .succeeded(result: []))
        guard case .refused(_, .unknownLease, _) = await worker.next() else { Issue.record("not refused"); return }
        #expect(try await h.view(id).record.state == .running)
        await worker.finish(assignment)
        // Answered twice: the second is refused, the job finished once.
        await worker.finish(assignment, .failed(message: "again", permanent: true, retryAfterMs: nil))
        guard case .refused(_, .unknownLease, _) = await worker.next() else { Issue.record("not refused"); return }
        #expect(try await h.until(id, is: .succeeded).job.record.attempt == 1)
    }

    @Test func aCancelReachesTheWorkerAndItsAnswerEndsTheJobCancelled() async throws {
        let h = harness()
        try await h.start()
        let id = try await h.enqueue("render")
        let worker = try await FakeWorker(h.engine)
        let assignment = await worker.nextAssignment()
        _ = try await h.engine.cancel(jobID: id, reason: "not needed")
        #expect(await worker.next() == .cancel(assignment.lease, cause: .request, message: "cancelled: not needed"))
        #expect(try await h.view(id).record.state == .running)
        await worker.finish(assignment, .failed(message: "stopped", permanent: false, retryAfterMs: nil))
        let cancelled = try await h.until(id, is: .cancelled)
        #expect(cancelled.job.record.failure?.message == "not needed")
    }

    @Test func aWorkerThatIgnoresATimeoutLosesTheJobButKeepsItsSlotUntilItAnswers() async throws {
        let h = harness { $0.queueDefaults.timeoutMs = 5_000 }
        try await h.start()
        let id = try await h.enqueue("render")
        let next = try await h.enqueue("render")
        let worker = try await FakeWorker(h.engine)
        let assignment = await worker.nextAssignment()
        #expect(assignment.deadlineMs == h.clock.nowMs + 5_000)
        h.clock.advance(byMs: 5_000)
        #expect(await worker.next() == .cancel(assignment.lease, cause: .timeout, message: "the attempt ran past its timeout"))
        await h.engine.workerHeartbeat(worker.number)
        h.clock.advance(byMs: Self.leaseMs)
        let timedOut = try await h.until(id, is: .scheduled)
        #expect(timedOut.job.record.failure?.code == "timeout")
        #expect(try await h.view(next).record.state == .queued)
        // Its answer is refused, and frees the slot for the next job.
        await worker.finish(assignment)
        guard case .refused(_, .leaseLost, _) = await worker.next() else { Issue.record("not refused"); return }
        #expect(await worker.nextAssignment().lease.jobID == next)
    }

    @Test func aReleasedJobIsQueuedAgainWithItsAttemptNotCounted() async throws {
        let h = harness()
        try await h.start()
        let id = try await h.enqueue("render")
        let worker = try await FakeWorker(h.engine)
        await h.engine.workerDraining(worker.number)
        let assignment = await worker.nextAssignment()
        await worker.finish(assignment, .released(reason: "draining"))
        let queued = try await h.until(id, is: .queued)
        #expect(queued.job.record.attempt == 0)
        // A draining worker gets nothing more.
        #expect(try await h.view(id).record.state == .queued)
        let other = try await FakeWorker(h.engine, name: "other")
        #expect(await other.nextAssignment().lease.attempt == 1)
    }

    @Test func aFailureWithRetryAfterWaitsThatLongAndAPermanentOneFails() async throws {
        let h = harness { $0.rateKeys = ["api": RateLimit(ratePerSecond: 10)] }
        try await h.start()
        let limited = try await h.enqueue("render") { $0.rateKey = "api" }
        let worker = try await FakeWorker(h.engine)
        let first = await worker.nextAssignment()
        await worker.finish(first, .failed(message: "429", permanent: false, retryAfterMs: 7_000))
        let retry = try await h.until(limited, is: .scheduled)
        #expect(retry.job.record.failure?.code == "rate_limited")
        #expect(retry.job.record.runAtMs == h.clock.nowMs + 7_000)
        #expect(try await h.engine.status().rateLimiters.first { $0.key == "api" }!.ratePerSecond < 10)

        let doomed = try await h.enqueue("render")
        let second = await worker.nextAssignment()
        #expect(second.lease.jobID == doomed)
        await worker.finish(second, .failed(message: "bad input", permanent: true, retryAfterMs: nil))
        #expect(try await h.until(doomed, is: .failed).job.record.failure?.retryable == false)
    }

    @Test func aHelloIsCheckedAtTheEdge() async throws {
        let h = harness()
        try await h.start()
        let send: @Sendable (WorkerCommand) -> Void = { _ in }
        await #expect(throws: EngineError.self) {
            try await h.engine.connectWorker(WorkerHello(name: "w", types: ["spool.echo"], capacity: 1), send: send)
        }
        await #expect(throws: EngineError.self) {
            try await h.engine.connectWorker(WorkerHello(name: "w", types: ["render"], capacity: 0), send: send)
        }
        await #expect(throws: EngineError.self) {
            try await h.engine.connectWorker(WorkerHello(name: "w", types: [], capacity: 1), send: send)
        }
        await #expect(throws: EngineError.self) {
            try await h.engine.connectWorker(WorkerHello(name: "w", types: ["render"], capacity: Int.max), send: send)
        }
        // Remote types are accepted at Enqueue; a typo still is not.
        await #expect(throws: EngineError.self) { try await h.enqueue("rendr") }
    }

    @Test func shutdownDrainsWorkersLetsThemFinishThenClosesTheirStreams() async throws {
        let h = harness()
        try await h.start()
        let id = try await h.enqueue("render")
        let worker = try await FakeWorker(h.engine)
        let assignment = await worker.nextAssignment()
        let stopping = Task { await h.engine.shutdown(gracePeriodMs: 10_000) }
        guard case .drain = await worker.next() else { Issue.record("no drain"); return }
        await worker.finish(assignment)
        await stopping.value
        guard case .close = await worker.next() else { Issue.record("no close"); return }
        #expect(h.store.stored(id)?.state == .succeeded)
    }

    @Test func aDisconnectedWorkersJobStaysLeasedWhileNewJobsGoToOthers() async throws {
        let h = harness()
        try await h.start()
        let worker = try await FakeWorker(h.engine, capacity: 2)
        let id = try await h.enqueue("render")
        _ = await worker.nextAssignment()
        await h.engine.disconnectWorker(worker.number)
        let other = try await h.enqueue("render")
        let late = try await FakeWorker(h.engine, name: "late")
        // The disconnected worker's delivered job is still leased; the new one runs at once.
        #expect(await late.nextAssignment().lease.jobID == other)
        #expect(try await h.view(id).record.state == .running)
    }
}
