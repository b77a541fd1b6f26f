import Foundation
@testable import SpoolCore
import Testing

/// Numbers a caller, a worker or the database controls, at and past every
/// limit: each is refused naming its limit, clamped, or failed as corrupt,
/// and none reaches a trap (a trap ends the test process, so these tests
/// fail by crashing on the code before JobLimits).
@Suite(.timeLimit(.minutes(1)))
struct HostileInputTests {
    // MARK: Requests

    @Test func aRequestOutsideTheLimitsIsRefusedNamingTheFieldAndItsLimit() async throws {
        let h = EngineHarness()
        try await h.start()
        let long = String(repeating: "x", count: JobLimits.maxNameBytes + 1)
        let cases: [(String, @Sendable (inout JobRequest) -> Void)] = [
            ("timeout_ms must be 0 (the queue's default) to 316224000000 (ten years), not 9223372036854775807",
             { $0.timeoutMs = .max }),
            ("timeout_ms must be 0 (the queue's default) to 316224000000 (ten years), not -1", { $0.timeoutMs = -1 }),
            ("run_at_ms must be 0 (now) to 253402300799999 (9999-12-31T23:59:59.999Z), not 253402300800000",
             { $0.runAtMs = JobLimits.maxRunAtMs + 1 }),
            ("run_at_ms must be 0 (now) to 253402300799999 (9999-12-31T23:59:59.999Z), not -9223372036854775808",
             { $0.runAtMs = .min }),
            ("max_attempts must be 0 (the queue's default) to 1000, not 2147483647", { $0.maxAttempts = .max }),
            ("max_attempts must be 0 (the queue's default) to 1000, not -2147483648", { $0.maxAttempts = .min }),
            ("lock_keys has 33 keys; the limit is 32", { $0.lockKeys = (0...32).map { "k\($0)" } }),
            ("lock_keys[0] is 257 bytes; the limit is 256", { [long] in $0.lockKeys = [long] }),
            ("queue is 257 bytes; the limit is 256", { [long] in $0.queue = long }),
            ("labels has 65 entries; the limit is 64",
             { $0.labels = Dictionary(uniqueKeysWithValues: (0...64).map { ("k\($0)", "v") }) }),
            ("labels[\"k\"] is 4097 bytes; the limit is 4096", { $0.labels = ["k": String(repeating: "v", count: 4097)] }),
            ("idempotency_key is 1025 bytes; the limit is 1024",
             { $0.idempotencyKey = String(repeating: "i", count: 1025) }),
        ]
        for (message, configure) in cases {
            await #expect(throws: EngineError.invalidArgument(message)) { try await h.enqueue("spool.echo", configure) }
        }
        #expect(try await h.store.unfinishedJobs().isEmpty)
    }

    @Test func aBatchLargerThanMaxBatchSizeIsRefusedNamingTheSetting() async throws {
        let h = EngineHarness { $0.maxBatchSize = 3 }
        try await h.start()
        let four = Array(repeating: JobRequest(type: "spool.echo"), count: 4)
        await #expect(throws: EngineError.invalidArgument("jobs has 4 jobs; the most a batch may carry is 3 (max_batch_size)")) {
            try await h.engine.enqueue(four, batchLabels: [:])
        }
        _ = try await h.engine.enqueue(Array(four.prefix(3)), batchLabels: [:])
    }

    @Test func jobsAtEveryLimitAreTakenAndTheirSumsHold() async throws {
        let h = EngineHarness { $0.workers = 1 }
        try await h.start()
        let longest = try await h.enqueue {
            $0.timeoutMs = JobLimits.maxDurationMs
            $0.maxAttempts = JobLimits.maxAttempts
        }
        #expect(await h.nextStart() == longest)
        let latest = try await h.enqueue("spool.echo") { $0.runAtMs = JobLimits.maxRunAtMs }
        let view = try await h.view(latest)
        #expect(view.record.state == .scheduled)
        #expect(view.record.runAtMs == JobLimits.maxRunAtMs)
        h.clock.advance(byMs: 10)
        h.gate.open(longest)
        try await h.until(longest, is: .succeeded)
        // With a mean run time known, every ETA is a sum of big numbers.
        #expect(try await h.view(latest).etaMs >= JobLimits.maxRunAtMs)
        _ = try await h.engine.cancel(jobID: latest)
    }

    // MARK: Workers

    @Test func aWorkersRetryAfterIsHeldToTheLongestDelay() async throws {
        let h = EngineHarness { $0.rateKeys = ["api": RateLimit(ratePerSecond: 1e-6, burst: 1)] }
        try await h.start()
        let far = try await h.enqueue { $0.rateKey = "api" }
        #expect(await h.nextStart() == far)
        h.gate.open(far, failing: .retryable("429", retryAfterMs: .max))
        let retry = try await h.until(far, is: .scheduled)
        #expect(retry.job.record.runAtMs == h.clock.nowMs + JobLimits.maxDurationMs)
        #expect(retry.note.hasSuffix("retrying in \(JobLimits.maxDurationMs) ms"))
        // The bucket owes ten years at the lowest rate there is, and still answers.
        let limiter = try await h.engine.status().rateLimiters.first { $0.key == "api" }
        #expect(limiter?.tokens.isFinite == true)

        let now = try await h.enqueue()
        #expect(await h.nextStart() == now)
        h.gate.open(now, failing: .retryable("429", retryAfterMs: .min))
        #expect(try await h.until(now, is: .scheduled).job.record.runAtMs == h.clock.nowMs)
    }

    @Test func spoolFailsRetryAfterFromItsPayloadIsHeldToTheLongestDelay() async throws {
        let h = EngineHarness()
        try await h.start()
        let id = try await h.enqueue("spool.fail") { $0.payload = Array(#"{"retry_after_ms": 9223372036854775807}"#.utf8) }
        let retry = try await h.until(id, is: .scheduled) { $0.attempt == 1 }
        #expect(retry.job.record.runAtMs == h.clock.nowMs + JobLimits.maxDurationMs)
    }

    // MARK: Memory

    @Test func whenEveryStreamTogetherHoldsMoreThanTheBudgetTheOneFurthestBehindEnds() async throws {
        let h = EngineHarness { $0.subscriberBufferBytes = 64 * 1024 }
        try await h.start()
        func enqueue(_ count: Int) async throws {
            var request = JobRequest(type: "spool.echo", queue: "q")
            request.runAtMs = JobLimits.maxRunAtMs  // one event each, published before the answer
            _ = try await h.engine.enqueue(Array(repeating: request, count: count), batchLabels: [:])
        }
        let early = try await h.engine.subscribe(.queue("q"))
        try await enqueue(100)  // about 45 KiB, unread
        #expect(early.pendingBytes > 32 * 1024)
        let late = try await h.engine.subscribe(.queue("q"))
        try await enqueue(50)  // about 22 KiB more to each: over the budget
        var earlyEvents = early.makeAsyncIterator()
        await #expect(throws: SubscriptionError.tooSlow(resumeAfterSeq: 0)) { _ = try await earlyEvents.next() }
        #expect(early.pendingBytes == 0)
        #expect(late.pendingBytes > 0)
        #expect(await h.engine.hub.budget.usedBytes == late.pendingBytes)
        var lateEvents = late.makeAsyncIterator()
        for _ in 0..<50 { #expect(try await lateEvents.next()?.job.record.state == .scheduled) }
        #expect(await h.engine.hub.budget.usedBytes == 0)
        await h.engine.unsubscribe(late)
    }

    // MARK: The database

    @Test func storedJobsOutOfRangeFailAsCorruptAndTheRestRun() async throws {
        let now = ManualClock().nowMs
        func record(_ seq: Int64, _ state: JobState = .queued, _ change: (inout JobRecord) -> Void = { _ in }) -> JobRecord {
            var r = JobRecord(id: "job-\(seq)", seq: seq, queue: "default", type: "gate", state: state,
                              maxAttempts: 3, timeoutMs: 0, runAtMs: now, createdAtMs: now)
            change(&r)
            return r
        }
        let store = InMemoryJobStore([
            record(1) { $0.timeoutMs = .max },
            record(2, .running) { $0.maxAttempts = .max; $0.attempt = .max },
            record(3, .scheduled) { $0.runAtMs = .max },
            record(4) { $0.corruption = "priority 4294967296 is out of range" },
            record(5) { $0.attempt = -1 },
            record(6, .running) { $0.attempt = 1; $0.startedAtMs = .min },
            record(7),
        ])
        let h = EngineHarness(store: store)
        let report = try await h.engine.start()
        #expect(report.corrupt.map(\.id) == (1...6).map { "job-\($0)" })
        #expect(report.corrupt[0].problem == "timeout_ms 9223372036854775807 is outside 0…316224000000")
        #expect(report.corrupt[3].problem == "priority 4294967296 is out of range")
        for seq in 1...6 {
            let stored = try #require(store.stored("job-\(seq)"))
            #expect(stored.state == .failed)
            #expect(stored.failure?.code == QueueEngine.corruptCode)
            #expect(stored.failure?.retryable == false)
        }
        #expect(await h.nextStart() == "job-7")
        h.gate.open("job-7")
        try await h.until("job-7", is: .succeeded)
        // Failed once: a second start finds nothing of them to load.
        let again = EngineHarness(store: store)
        #expect(try await again.engine.start().corrupt.isEmpty)
    }

    // MARK: Generated sequences

    /// Extreme values a field can carry on the wire.
    static let extremes64: [Int64] = [0, -1, 1, Int64(Int32.max), Int64(Int32.min), .max, .min, 1_000,
                                      JobLimits.maxDurationMs, JobLimits.maxDurationMs + 1, JobLimits.maxRunAtMs,
                                      JobLimits.maxRunAtMs + 1, 1_700_000_000_000, 1_700_000_000_001]
    static let extremes32: [Int32] = [0, -1, 1, 2, .max, .min, JobLimits.maxAttempts, JobLimits.maxAttempts + 1]

    /// The engine, driven by generated operations with extreme values,
    /// against a model that knows which requests are in range and how many
    /// jobs each state holds. Seeds are fixed: a failure replays.
    @Test(arguments: 1...8 as ClosedRange<UInt64>)
    func generatedOperationsWithExtremeValuesKeepTheEngineAndTheModelAgreed(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        let h = EngineHarness {
            $0.workers = 2
            // Kept for good: the clock may move on by centuries here, and pruning is not under test.
            $0.retentionMs = 1_000 * JobLimits.maxDurationMs
            $0.rateKeys = ["api": RateLimit(ratePerSecond: 1e-6, burst: 1)]
        }
        try await h.start()
        var accepted: [String] = []
        for _ in 0..<60 {
            switch random.next() % 4 {
            case 0, 1:
                var request = JobRequest(type: ["spool.echo", "spool.fail", "spool.sleep"][Int(random.next() % 3)])
                request.timeoutMs = random.pick(Self.extremes64)
                request.runAtMs = random.pick(Self.extremes64)
                request.maxAttempts = random.pick(Self.extremes32)
                request.priority = random.pick(Self.extremes32)
                if random.next() % 3 == 0 { request.rateKey = "api" }
                let retryAfter = random.pick(Self.extremes64)
                request.payload = request.type == "spool.fail"
                    ? Array(#"{"fail_attempts": 2, "retry_after_ms": \#(retryAfter)}"#.utf8)
                    : request.type == "spool.sleep" ? Array(#"{"steps": 1, "step_ms": 5}"#.utf8) : []
                let inRange = (0...JobLimits.maxDurationMs).contains(request.timeoutMs)
                    && (0...JobLimits.maxRunAtMs).contains(request.runAtMs)
                    && (0...JobLimits.maxAttempts).contains(request.maxAttempts)
                do {
                    let id = try await h.engine.enqueue([request]).items[0].job.record.id
                    #expect(inRange, "accepted \(request)")
                    accepted.append(id)
                } catch {
                    #expect(!inRange, "refused \(request): \(error)")
                    guard case .invalidArgument = error else {
                        Issue.record("refused with \(error), not INVALID_ARGUMENT")
                        continue
                    }
                }
            case 2:
                h.clock.advance(byMs: random.pick([0, 1, 5, 1_000, 300_000, JobLimits.maxDurationMs]))
            default:
                if let id = accepted.randomElement(using: &random) { _ = try await h.engine.cancel(jobID: id) }
            }
            let status = try await h.engine.status(jobIDs: Array(accepted.suffix(5)))
            let total = status.queues.reduce(0) { $0 + $1.counts.total }
            #expect(total == accepted.count, "every accepted job is counted once, in one state")
            for job in status.jobs {
                #expect(job.etaMs >= 0 || job.record.state.isTerminal)
                #expect(job.record.runAtMs <= JobRecord.latestTimeMs)
            }
        }
        // Everything still unfinished can be cancelled, and ends.
        for id in accepted { _ = try await h.engine.cancel(jobID: id) }
    }
}

extension RandomNumberGenerator {
    mutating func pick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }
}
