import ArgumentParser
import Foundation
import SpoolWire

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs by queue, state, type, batch and labels, newest first: id, state, queue, type, attempts, created.",
        discussion: "Prints up to --limit jobs, then how many match in all.")

    @OptionGroup var serverOptions: ServerOptions

    @Option(help: "Only this queue's jobs.")
    var queue: String?

    @Option(help: "Only jobs in this state (blocked, scheduled, queued, running, succeeded, failed, cancelled); repeatable.")
    var state: [String] = []

    @Option(help: "Only jobs of this type.")
    var type: String?

    @Option(help: "Only this batch's jobs.")
    var batch: String?

    @Option(help: "Only jobs with this label, KEY=VALUE; repeatable.")
    var label: [String] = []

    @Flag(help: "Oldest first.")
    var oldest = false

    @Option(help: "Most jobs to print (1 to 100000).")
    var limit = 50

    func validate() throws {
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000") }
    }

    func run() async throws {
        var request = ListJobsRequest()
        request.queue = queue ?? ""
        request.type = type ?? ""
        request.batchId = batch ?? ""
        request.oldestFirst = oldest
        for name in state {
            guard let wire = WireJobState.allCases.first(where: { $0 != .unspecified && $0.name == name.uppercased() }) else {
                throw ValidationError("--state must be one of blocked, scheduled, queued, running, succeeded, failed, cancelled (got \(name))")
            }
            request.states.append(wire)
        }
        for pair in label {
            guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--label must be KEY=VALUE (got \(pair))") }
            request.labels[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        var printed = 0
        var total: Int64 = 0
        try await withConnection(serverOptions) { connection in
            repeat {
                request.pageSize = UInt32(min(1000, limit - printed))
                let page = try await connection.unary("ListJobs", request, as: ListJobsResponse.self)
                total = page.total
                for job in page.jobs {
                    let created = Date(timeIntervalSince1970: Double(job.createdAtMs) / 1000).formatted(.iso8601)
                    output([job.id, job.state.name, job.queue, job.type, "\(job.attempt)/\(job.maxAttempts)", created]
                        .joined(separator: "  "))
                }
                printed += page.jobs.count
                request.pageToken = page.nextPageToken
            } while !request.pageToken.isEmpty && printed < limit
        }
        output("\(printed) of \(total) matching")
    }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a FAILED or CANCELLED job again, under its id, with fresh attempts; prints its new state.")

    @OptionGroup var serverOptions: ServerOptions

    @Argument(help: "The job id.")
    var jobID: String

    @Option(help: "Why, in the job's event.")
    var reason = ""

    func run() async throws {
        let answer = try await withConnection(serverOptions) {
            try await $0.unary("Retry", RetryRequest(jobId: jobID, reason: reason), as: RetryResponse.self)
        }
        output("\(answer.job?.id ?? jobID)  \(answer.job?.state.name ?? "")")
    }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause a queue: it takes jobs and starts none until resumed (kept across restarts).")

    @OptionGroup var serverOptions: ServerOptions

    @Argument(help: "The queue.")
    var queue: String

    func run() async throws {
        try await updateQueue(queue, .pause, serverOptions)
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume a paused queue.")

    @OptionGroup var serverOptions: ServerOptions

    @Argument(help: "The queue.")
    var queue: String

    func run() async throws {
        try await updateQueue(queue, .resume, serverOptions)
    }
}

private func updateQueue(_ queue: String, _ pause: UpdateQueueRequest.Pause, _ options: ServerOptions) async throws {
    var request = UpdateQueueRequest()
    request.queue = queue
    request.pause = pause
    let answer = try await withConnection(options) { try await $0.unary("UpdateQueue", request, as: UpdateQueueResponse.self) }
    guard let status = answer.queue else { return }
    output("\(status.name)  \(status.paused ? "paused" : "running")  concurrency \(status.concurrency)")
}
