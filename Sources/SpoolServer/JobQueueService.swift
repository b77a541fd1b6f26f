import GRPCH2
import SpoolCore
import SpoolWire

/// spool.v1.JobQueue: the RPCs, each a thin mapping onto `QueueEngine`
/// (wire types in, engine calls, wire types out). Engine errors become gRPC
/// statuses here and nowhere else.
public struct JobQueueService: Sendable {
    public static let name = "spool.v1.JobQueue"

    let engine: QueueEngine
    private let limits: RequestLimits
    private let progressStreams: ProgressStreamLimits

    public init(engine: QueueEngine, progressStreams: ProgressStreamLimits = ProgressStreamLimits()) {
        self.engine = engine
        limits = RequestLimits(maxBatchSize: engine.configuration.maxBatchSize)
        self.progressStreams = progressStreams
    }

    public func register(in router: inout Router) {
        // The enqueues answer from the engine's commit, with no task waiting
        // per call: the busiest RPCs cost the least this way.
        router.unaryCallback("/spool.v1.JobQueue/Enqueue", precheck: limits.enqueue.precheck) {
            (request: EnqueueRequest, _, responder: MessageResponder<EnqueueResponse>) in
            guard let spec = request.job else { throw GRPCStatus(.invalidArgument, "job is required") }
            engine.enqueue([JobRequest(spec)]) { result in
                responder.respond {
                    let item = try result.mapError(GRPCStatus.init).get().items[0]
                    return EnqueueResponse(job: Job(item.job), deduplicated: item.deduplicated)
                }
            }
        }
        router.unaryCallback("/spool.v1.JobQueue/EnqueueBatch", precheck: limits.enqueueBatch.precheck) {
            (request: EnqueueBatchRequest, _, responder: MessageResponder<EnqueueBatchResponse>) in
            let batch = BatchOptions(labels: request.labels, callback: request.callback.map(JobRequest.init),
                                     idempotencyKey: request.idempotencyKey, parentID: request.parentId)
            engine.enqueue(request.jobs.map(JobRequest.init), batch: batch) { result in
                responder.respond {
                    let result = try result.mapError(GRPCStatus.init).get()
                    func enqueued(_ item: EnqueueResult.Item) -> EnqueuedJob {
                        EnqueuedJob(id: item.job.record.id, state: WireJobState(item.job.record.state), deduplicated: item.deduplicated)
                    }
                    return EnqueueBatchResponse(batchId: result.batchID ?? "", jobs: result.items.map(enqueued),
                                                deduplicated: result.deduplicated, callback: result.callback.map(enqueued))
                }
            }
        }
        router.unary("/spool.v1.JobQueue/Cancel") { (request: CancelRequest, _) in
            switch (request.jobId.isEmpty, request.batchId.isEmpty) {
            case (false, true):
                return CancelResponse(jobs: [Job(try await mapped { try await engine.cancel(jobID: request.jobId, reason: request.reason) })])
            case (true, false):
                return CancelResponse(jobs: try await mapped {
                    try await engine.cancel(batchID: request.batchId, reason: request.reason)
                }.map(Job.init))
            default:
                throw GRPCStatus(.invalidArgument, "set exactly one of job_id and batch_id")
            }
        }
        router.unary("/spool.v1.JobQueue/GetStatus", precheck: limits.getStatus.precheck) { (request: GetStatusRequest, _) in
            GetStatusResponse(try await mapped {
                try await engine.status(queues: request.queues, jobIDs: request.jobIds, batchID: request.batchId,
                                        onlySelected: request.onlySelected)
            })
        }
        let stream = EnqueueStreamCall(engine: engine, limits: limits.enqueueStream)
        router.register("/spool.v1.JobQueue/EnqueueStream", .bidirectionalStreaming { requests, _, writer in
            try await stream.run(requests, writer)
        })
        let admin = AdminCalls(engine: engine)
        router.unary("/spool.v1.JobQueue/ListJobs", precheck: limits.listJobs.precheck) { (request: ListJobsRequest, _) in
            try await admin.listJobs(request)
        }
        router.unary("/spool.v1.JobQueue/Retry") { (request: RetryRequest, _) in try await admin.retry(request) }
        router.unary("/spool.v1.JobQueue/UpdateQueue") { (request: UpdateQueueRequest, _) in try await admin.updateQueue(request) }
        router.limitOpenCalls(of: "/spool.v1.JobQueue/StreamProgress", perConnection: progressStreams.perConnection,
                              total: progressStreams.total)
        router.serverStreaming("/spool.v1.JobQueue/StreamProgress", precheck: limits.streamProgress.precheck) {
            (request: StreamProgressRequest, _, writer: MessageWriter<ProgressEvent>) in
            let selection = try Self.selection(of: request)
            let subscription = try await mapped {
                try await engine.subscribe(selection, afterSeq: request.afterSeq,
                                           positionIntervalMs: request.positionIntervalMs == 0 ? nil : Int64(request.positionIntervalMs))
            }
            do {
                for try await event in subscription { try await writer.send(ProgressEvent(event)) }
            } catch {
                // The reader left, fell behind, or the engine stopped: forget it either way.
                await engine.unsubscribe(subscription)
                switch error {
                case let error as SubscriptionError: throw GRPCStatus(error)
                case let error as EngineError: throw GRPCStatus(error)
                default: throw error
                }
            }
        }
    }

    static func selection(of request: StreamProgressRequest) throws -> Selection {
        let chosen = [!request.jobIds.isEmpty, !request.batchId.isEmpty, !request.queue.isEmpty, request.allQueues]
            .filter { $0 }.count
        guard chosen == 1 else { throw GRPCStatus(.invalidArgument, "set exactly one of job_ids, batch_id, queue and all_queues") }
        if request.allQueues { return .all }
        if !request.jobIds.isEmpty {
            if let empty = request.jobIds.firstIndex(of: "") { throw GRPCStatus(.invalidArgument, "job_ids[\(empty)] is empty") }
            return .jobs(request.jobIds)
        }
        return request.batchId.isEmpty ? .queue(request.queue) : .batch(request.batchId)
    }
}

/// How many progress streams may be open at once. Each holds memory while
/// its reader is behind: its share of the engine's buffer budget, and up to
/// `GRPCServer.Configuration.responseBufferHighWaterMark` in the transport.
public struct ProgressStreamLimits: Sendable {
    public var perConnection = 100
    public var total = 4_096

    public init() {}
}

/// Runs an engine call, turning its error into the gRPC status for it.
func mapped<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as EngineError {
        throw GRPCStatus(error)
    }
}

extension GRPCStatus {
    /// The one place engine errors meet status codes.
    init(_ error: EngineError) {
        switch error {
        case .invalidArgument(let message): self.init(.invalidArgument, message)
        case .notFound(let message): self.init(.notFound, message)
        case .resourceExhausted(let message): self.init(.resourceExhausted, message)
        case .failedPrecondition(let message): self.init(.failedPrecondition, message)
        case .unavailable(let message): self.init(.unavailable, message)
        case .storage(let message): self.init(.internal, "storage failed: \(message)")
        }
    }

    init(_ error: SubscriptionError) {
        switch error {
        case .tooSlow(let seq):
            self.init(.resourceExhausted, "the stream fell too far behind; resume with after_seq=\(seq)")
        }
    }
}
