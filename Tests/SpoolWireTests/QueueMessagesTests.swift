import Foundation
import Testing
import SpoolWire

/// A JobSpec and a Job with every field set, nested messages and maps included.
private let spec: JobSpec = {
    var spec = JobSpec()
    spec.queue = "renders"
    spec.type = "image.render"
    spec.payload = [0, 1, 2, 255]
    spec.priority = -3
    spec.idempotencyKey = "req-42"
    spec.lockKeys = ["gpu", "app-a/files"]
    spec.rateKey = "openai"
    spec.maxAttempts = 5
    spec.timeoutMs = 60_000
    spec.runAtMs = 1_790_000_000_000
    spec.labels = ["team": "vision", "ticket": "SP-7"]
    return spec
}()

private let job: Job = {
    var job = Job()
    job.id = "0190a5b6-c7d8-7abc-8def-0123456789ab"
    job.queue = "renders"
    job.type = "image.render"
    job.state = .running
    job.priority = 9
    job.attempt = 2
    job.maxAttempts = 5
    job.position = 0
    job.progress = JobProgress(fraction: 0.4, step: "denoise", message: "pass 2 of 5")
    job.result = [9, 9]
    job.error = JobError(code: "timeout", message: "attempt 1 took over 60 s", retryable: true)
    job.batchId = "batch-1"
    job.idempotencyKey = "req-42"
    job.lockKeys = ["gpu"]
    job.rateKey = "openai"
    job.labels = ["team": "vision"]
    job.runAtMs = 1
    job.createdAtMs = 2
    job.startedAtMs = 3
    job.finishedAtMs = 4
    job.updatedAtMs = 5
    job.etaMs = 6
    job.timeoutMs = 60_000
    return job
}()

private func roundTrip<Message: WireMessage & Equatable>(_ message: Message) throws -> Message {
    try Message(serializedBytes: message.serializedBytes())
}

/// Runs protoc on spool/v1/queue.proto: the reference implementation checks our bytes.
private func protoc(_ mode: String, _ type: String, input: Data) throws -> Data {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["protoc", "--\(mode)=\(type)", "-I", root.appendingPathComponent("proto").path, "spool/v1/queue.proto"]
    let stdin = Pipe(), stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return output
}

struct QueueMessagesTests {
    @Test func everyRequestAndResponseRoundTripsWithAllFieldsSet() throws {
        #expect(try roundTrip(EnqueueRequest(job: spec)) == EnqueueRequest(job: spec))
        #expect(try roundTrip(EnqueueResponse(job: job, deduplicated: true)).job == job)
        let batch = EnqueueBatchRequest(jobs: [spec, JobSpec(), spec], labels: ["origin": "ci"])
        #expect(try roundTrip(batch) == batch)
        let accepted = EnqueueBatchResponse(batchId: "b", jobs: [EnqueuedJob(id: "a", state: .queued, deduplicated: true)])
        #expect(try roundTrip(accepted) == accepted)
        #expect(try roundTrip(CancelRequest(jobId: "a", reason: "user")) == CancelRequest(jobId: "a", reason: "user"))
        #expect(try roundTrip(CancelResponse(jobs: [job, job])) == CancelResponse(jobs: [job, job]))

        var watch = StreamProgressRequest()
        watch.jobIds = ["a", "b"]
        watch.afterSeq = UInt64.max
        watch.positionIntervalMs = 250
        #expect(try roundTrip(watch) == watch)

        var counts = JobCounts()
        (counts.scheduled, counts.queued, counts.running, counts.succeeded, counts.failed, counts.cancelled) = (1, 2, 3, 4, 5, 6)
        var summary = BatchSummary()
        (summary.batchId, summary.total, summary.counts, summary.percent, summary.etaMs) = ("b", 21, counts, 71.5, 99)
        var event = ProgressEvent()
        (event.seq, event.timeMs, event.kind, event.job, event.note, event.batch) = (7, 8, .position, job, "moved", summary)
        #expect(try roundTrip(event) == event)

        #expect(try roundTrip(GetStatusRequest(queues: ["q"], jobIds: ["a"], batchId: "b", onlySelected: true))
            == GetStatusRequest(queues: ["q"], jobIds: ["a"], batchId: "b", onlySelected: true))
        var status = GetStatusResponse()
        status.serverTimeMs = 10
        var queue = QueueStatus()
        (queue.name, queue.counts, queue.concurrency, queue.maxDepth, queue.throughputPerMinute, queue.meanRunMs, queue.runningJobIds)
            = ("renders", counts, 4, 10_000, 12.5, 3_000, ["a"])
        var worker = WorkerSlot()
        (worker.index, worker.busy, worker.jobId, worker.queue, worker.sinceMs) = (1, true, "a", "renders", 11)
        var limiter = RateLimiterStatus()
        (limiter.key, limiter.ratePerSecond, limiter.configuredRatePerSecond, limiter.burst, limiter.tokens, limiter.utilisation)
            = ("openai", 5, 10, 20, 3.5, 0.75)
        var lock = LockStatus()
        (lock.key, lock.capacity, lock.holders, lock.waiters) = ("gpu", 2, ["a", "b"], 3)
        (status.queues, status.workers, status.rateLimiters, status.locks, status.jobs, status.batch)
            = ([queue], [worker], [limiter], [lock], [job], summary)
        #expect(try roundTrip(status) == status)
    }

    @Test func messagesLargerThanTheArenasBlocksRoundTrip() throws {
        // Thousands of sub-messages and strings, strings of every length
        // across block ends, and fields bigger than the largest block.
        var big = spec
        big.payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        big.idempotencyKey = String(repeating: "k", count: 70_000)
        var batch = EnqueueBatchRequest(jobs: (0..<3000).map { index in
            var spec = spec
            spec.type = String(repeating: "t", count: index % 97)
            return spec
        }, labels: ["origin": "ci"])
        batch.jobs.insert(big, at: 1500)
        #expect(try roundTrip(batch) == batch)
        let accepted = EnqueueBatchResponse(batchId: "b", jobs: (0..<5000).map { EnqueuedJob(id: "job-\($0)", state: .queued) })
        #expect(try roundTrip(accepted) == accepted)
    }

    @Test func defaultMessagesAreEmptyOnTheWire() {
        #expect(EnqueueRequest().serializedBytes() == [])
        #expect(GetStatusResponse().serializedBytes() == [])
        #expect(StreamProgressRequest().serializedBytes() == [])
    }

    @Test func equalMapsEncodeToEqualBytes() {
        var a = JobSpec(), b = JobSpec()
        a.labels = ["x": "1", "y": "2", "z": "3"]
        b.labels = ["z": "3", "x": "1", "y": "2"]
        #expect(EnqueueRequest(job: a).serializedBytes() == EnqueueRequest(job: b).serializedBytes())
    }

    @Test func protocReadsWhatWeWrite() throws {
        let text = String(decoding: try protoc("decode", "spool.v1.EnqueueRequest",
                                               input: Data(EnqueueRequest(job: spec).serializedBytes())), as: UTF8.self)
        for line in ["queue: \"renders\"", "type: \"image.render\"", "payload: \"\\000\\001\\002\\377\"",
                     "priority: -3", "lock_keys: \"gpu\"", "lock_keys: \"app-a/files\"", "max_attempts: 5",
                     "run_at_ms: 1790000000000", "key: \"ticket\"", "value: \"SP-7\""] {
            #expect(text.contains(line), "\(line) in \(text)")
        }
    }

    @Test func weReadWhatProtocWrites() throws {
        let text = """
            job { id: "x" state: JOB_STATE_FAILED progress { fraction: 0.5 step: "s" }
                  error { code: "handler" retryable: true } labels { key: "k" value: "v" } lock_keys: "a" lock_keys: "b" }
            deduplicated: true
            """
        let bytes = try protoc("encode", "spool.v1.EnqueueResponse", input: Data(text.utf8))
        let response = try EnqueueResponse(serializedBytes: Array(bytes))
        #expect(response.deduplicated)
        let job = try #require(response.job)
        #expect(job.id == "x" && job.state == .failed)
        #expect(job.progress == JobProgress(fraction: 0.5, step: "s"))
        #expect(job.error == JobError(code: "handler", retryable: true))
        #expect(job.labels == ["k": "v"] && job.lockKeys == ["a", "b"])
    }
}
