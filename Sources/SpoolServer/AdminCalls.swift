import GRPCH2
import SpoolCore
import SpoolWire

/// ListJobs, Retry and UpdateQueue: the checks of each request and its
/// engine call, shared by the RPCs (`JobQueueService`) and the JSON API
/// (`HTTPFace`), so both answer alike.
struct AdminCalls: Sendable {
    let engine: QueueEngine

    func listJobs(_ request: ListJobsRequest) async throws -> ListJobsResponse {
        var query = JobQuery()
        if !request.queue.isEmpty { query.queue = request.queue }
        if !request.type.isEmpty { query.type = request.type }
        if !request.batchId.isEmpty { query.batchID = request.batchId }
        for (index, state) in request.states.enumerated() {
            guard let state = JobState(rawValue: Int32(state.rawValue)) else {
                throw GRPCStatus(.invalidArgument, "states[\(index)] is not a job state")
            }
            query.states.append(state)
        }
        query.labels = request.labels
        if request.createdAfterMs != 0 { query.createdAfterMs = request.createdAfterMs }
        if request.createdBeforeMs != 0 { query.createdBeforeMs = request.createdBeforeMs }
        query.oldestFirst = request.oldestFirst
        if request.pageSize > JobQuery.maxPageSize {
            throw GRPCStatus(.invalidArgument, "page_size must be at most \(JobQuery.maxPageSize) (0: \(JobQuery.defaultPageSize)), not \(request.pageSize)")
        }
        query.pageSize = request.pageSize == 0 ? JobQuery.defaultPageSize : Int(request.pageSize)
        if !request.pageToken.isEmpty {
            // "SEQ.TOTAL": where the last page ended, and the first page's total.
            let parts = request.pageToken.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let seq = Int64(parts[0]), seq > 0, let total = Int(parts[1]), total >= 0 else {
                throw GRPCStatus(.invalidArgument, "page_token is not one a ListJobs answer gave")
            }
            query.afterSeq = seq
            query.knownTotal = total
        }
        let page = try await mapped { try await engine.listJobs(query) }
        return ListJobsResponse(jobs: page.jobs.map(Job.init), nextPageToken: page.nextAfterSeq.map { "\($0).\(page.total)" } ?? "",
                                total: Int64(page.total))
    }

    func retry(_ request: RetryRequest) async throws -> RetryResponse {
        guard !request.jobId.isEmpty else { throw GRPCStatus(.invalidArgument, "job_id is required") }
        return RetryResponse(job: Job(try await mapped { try await engine.retry(jobID: request.jobId, reason: request.reason) }))
    }

    func updateQueue(_ request: UpdateQueueRequest) async throws -> UpdateQueueResponse {
        guard !request.queue.isEmpty else { throw GRPCStatus(.invalidArgument, "queue is required") }
        guard let pause = request.pause else { throw GRPCStatus(.invalidArgument, "pause is not one of PAUSE_UNCHANGED, PAUSE_PAUSE, PAUSE_RESUME") }
        let bounds = SpoolConfiguration.Bounds.concurrency
        if request.concurrency != 0 && !bounds.contains(Int(request.concurrency)) {
            throw GRPCStatus(.invalidArgument, "concurrency must be from \(bounds.lowerBound) to \(bounds.upperBound) (0: unchanged), not \(request.concurrency)")
        }
        var rateLimit: RateLimit??
        if let rate = request.rate {
            let rates = SpoolConfiguration.Bounds.ratePerSecond
            if rate.perSecond == 0 {
                rateLimit = .some(nil)
            } else {
                guard rates.contains(rate.perSecond) else {
                    throw GRPCStatus(.invalidArgument, "rate.per_second must be from \(rates.lowerBound) to \(rates.upperBound) (0: no limit), not \(rate.perSecond)")
                }
                guard rate.burst == 0 || (rate.burst >= 1 && rate.burst <= rates.upperBound) else {
                    throw GRPCStatus(.invalidArgument, "rate.burst must be from 1 to \(rates.upperBound) (0: per_second), not \(rate.burst)")
                }
                rateLimit = .some(RateLimit(ratePerSecond: rate.perSecond, burst: rate.burst == 0 ? nil : rate.burst))
            }
        }
        let queue = try await mapped {
            try await engine.updateQueue(
                request.queue, paused: pause == .unchanged ? nil : pause == .pause,
                concurrency: request.concurrency == 0 ? nil : Int(request.concurrency), rateLimit: rateLimit, reset: request.reset)
        }
        return UpdateQueueResponse(queue: QueueStatus(queue))
    }
}
