import SpoolProtoC

// spool.v1's admin messages (proto/spool/v1/queue.proto): ListJobs, Retry, UpdateQueue.

/// spool.v1.ListJobsRequest
public struct ListJobsRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var queue = ""
    public var states: [WireJobState] = []
    public var type = ""
    public var batchId = ""
    public var labels: [String: String] = [:]
    public var createdAfterMs: Int64 = 0
    public var createdBeforeMs: Int64 = 0
    public var oldestFirst = false
    public var pageSize: UInt32 = 0
    public var pageToken = ""

    public init() {}

    typealias CMessage = Spool__V1__ListJobsRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__list_jobs_request__init }

    init(c: UnsafePointer<CMessage>) {
        let m = c.pointee
        queue = CRead.string(m.queue)
        // An enum number this server does not know stays unspecified (and is refused as such).
        states = CRead.array(m.n_states, m.states) { WireJobState(rawValue: $0.rawValue) ?? .unspecified }
        type = CRead.string(m.type)
        batchId = CRead.string(m.batch_id)
        labels = CRead.map(m.n_labels, m.labels, key: \.key, value: \.value)
        createdAfterMs = m.created_after_ms
        createdBeforeMs = m.created_before_ms
        oldestFirst = m.oldest_first != 0
        pageSize = m.page_size
        pageToken = CRead.string(m.page_token)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.queue = arena.string(queue)
        c.pointee.n_states = states.count
        c.pointee.states = arena.array(states.map { $0.c })
        c.pointee.type = arena.string(type)
        c.pointee.batch_id = arena.string(batchId)
        (c.pointee.n_labels, c.pointee.labels) = arena.map(
            labels, initialize: spool__v1__list_jobs_request__labels_entry__init, key: \.key, value: \.value)
        c.pointee.created_after_ms = createdAfterMs
        c.pointee.created_before_ms = createdBeforeMs
        c.pointee.oldest_first = oldestFirst ? 1 : 0
        c.pointee.page_size = pageSize
        c.pointee.page_token = arena.string(pageToken)
    }
}

/// spool.v1.ListJobsResponse
public struct ListJobsResponse: Equatable, WireMessage, ProtobufCBridged, Encodable {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var jobs: [Job] = []
    public var nextPageToken = ""
    public var total: Int64 = 0

    public init(jobs: [Job] = [], nextPageToken: String = "", total: Int64 = 0) {
        self.jobs = jobs
        self.nextPageToken = nextPageToken
        self.total = total
    }

    typealias CMessage = Spool__V1__ListJobsResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__list_jobs_response__init }

    init(c: UnsafePointer<CMessage>) {
        jobs = CRead.messages(c.pointee.n_jobs, c.pointee.jobs, as: Job.self)
        nextPageToken = CRead.string(c.pointee.next_page_token)
        total = c.pointee.total
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.n_jobs = jobs.count
        c.pointee.jobs = arena.messages(jobs)
        c.pointee.next_page_token = arena.string(nextPageToken)
        c.pointee.total = total
    }
}

/// spool.v1.RetryRequest
public struct RetryRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var jobId = ""
    public var reason = ""

    public init(jobId: String = "", reason: String = "") {
        self.jobId = jobId
        self.reason = reason
    }

    typealias CMessage = Spool__V1__RetryRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__retry_request__init }

    init(c: UnsafePointer<CMessage>) {
        jobId = CRead.string(c.pointee.job_id)
        reason = CRead.string(c.pointee.reason)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job_id = arena.string(jobId)
        c.pointee.reason = arena.string(reason)
    }
}

/// spool.v1.RetryResponse
public struct RetryResponse: Equatable, WireMessage, ProtobufCBridged, Encodable {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var job: Job?

    public init(job: Job? = nil) { self.job = job }

    typealias CMessage = Spool__V1__RetryResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__retry_response__init }

    init(c: UnsafePointer<CMessage>) {
        job = CRead.message(c.pointee.job, as: Job.self)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job = job.map(arena.message)
    }
}

/// spool.v1.QueueRate
public struct QueueRate: Equatable, Sendable, ProtobufCBridged, Codable {
    public var perSecond = 0.0
    public var burst = 0.0

    public init(perSecond: Double = 0, burst: Double = 0) {
        self.perSecond = perSecond
        self.burst = burst
    }

    private enum CodingKeys: String, CodingKey { case perSecond, burst }

    /// Either field may be left out (0).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        perSecond = try c.decodeIfPresent(Double.self, forKey: .perSecond) ?? 0
        burst = try c.decodeIfPresent(Double.self, forKey: .burst) ?? 0
    }

    typealias CMessage = Spool__V1__QueueRate
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__queue_rate__init }

    init(c: UnsafePointer<CMessage>) {
        perSecond = c.pointee.per_second
        burst = c.pointee.burst
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.per_second = perSecond
        c.pointee.burst = burst
    }
}

/// spool.v1.UpdateQueueRequest
public struct UpdateQueueRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public enum Pause: UInt32, Sendable, CaseIterable {
        case unchanged = 0
        case pause = 1
        case resume = 2
    }

    public var queue = ""
    /// nil: a number this server does not know.
    public var pause: Pause? = .unchanged
    public var concurrency: Int32 = 0
    public var rate: QueueRate?
    public var reset = false

    public init() {}

    typealias CMessage = Spool__V1__UpdateQueueRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__update_queue_request__init }

    init(c: UnsafePointer<CMessage>) {
        queue = CRead.string(c.pointee.queue)
        pause = Pause(rawValue: c.pointee.pause.rawValue)
        concurrency = c.pointee.concurrency
        rate = CRead.message(c.pointee.rate, as: QueueRate.self)
        reset = c.pointee.reset != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.queue = arena.string(queue)
        c.pointee.pause = Spool__V1__UpdateQueueRequest__Pause(rawValue: (pause ?? .unchanged).rawValue)
        c.pointee.concurrency = concurrency
        c.pointee.rate = rate.map(arena.message)
        c.pointee.reset = reset ? 1 : 0
    }
}

/// spool.v1.UpdateQueueResponse
public struct UpdateQueueResponse: Equatable, WireMessage, ProtobufCBridged, Encodable {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var queue: QueueStatus?

    public init(queue: QueueStatus? = nil) { self.queue = queue }

    typealias CMessage = Spool__V1__UpdateQueueResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__update_queue_response__init }

    init(c: UnsafePointer<CMessage>) {
        queue = CRead.message(c.pointee.queue, as: QueueStatus.self)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.queue = queue.map(arena.message)
    }
}

/// spool.v1.EnqueueStreamRequest: one job on an EnqueueStream.
public struct EnqueueStreamRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var correlationId: UInt64 = 0
    public var job: JobSpec?
    /// More jobs packed in this message, each as if sent alone.
    public var more: [EnqueueStreamRequest] = []

    public init(correlationId: UInt64 = 0, job: JobSpec? = nil, more: [EnqueueStreamRequest] = []) {
        self.correlationId = correlationId
        self.job = job
        self.more = more
    }

    typealias CMessage = Spool__V1__EnqueueStreamRequest
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__enqueue_stream_request__init }

    init(c: UnsafePointer<CMessage>) {
        correlationId = c.pointee.correlation_id
        job = CRead.message(c.pointee.job, as: JobSpec.self)
        more = CRead.messages(c.pointee.n_more, c.pointee.more, as: EnqueueStreamRequest.self)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.correlation_id = correlationId
        c.pointee.job = job.map(arena.message)
        c.pointee.n_more = more.count
        c.pointee.more = arena.messages(more)
    }
}

/// spool.v1.EnqueueStreamResponse: one job's answer on an EnqueueStream.
public struct EnqueueStreamResponse: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var correlationId: UInt64 = 0
    public var job: Job?
    public var deduplicated = false
    public var errorCode: Int32 = 0
    public var errorMessage = ""
    /// Further answers packed in this message.
    public var more: [EnqueueStreamResponse] = []
    /// The server takes `EnqueueStreamRequest.more`.
    public var packs = false

    public init(correlationId: UInt64 = 0, job: Job? = nil, deduplicated: Bool = false, errorCode: Int32 = 0,
                errorMessage: String = "", more: [EnqueueStreamResponse] = [], packs: Bool = false) {
        self.correlationId = correlationId
        self.job = job
        self.deduplicated = deduplicated
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.more = more
        self.packs = packs
    }

    /// Encoded answers as one message: the first, with the others as its
    /// `more` (field 6). Protobuf merges fields appended to a message, so
    /// each answer is encoded once, as it comes, and packing only frames them.
    public static func packing(_ encoded: [[UInt8]]) -> [UInt8] {
        guard var message = encoded.first else { return [] }
        message.reserveCapacity(encoded.reduce(0) { $0 + $1.count + 6 })
        for answer in encoded.dropFirst() {
            message.append(6 << 3 | 2)  // field 6, length-delimited
            var length = UInt64(answer.count)
            while length >= 0x80 {
                message.append(UInt8(truncatingIfNeeded: length) | 0x80)
                length >>= 7
            }
            message.append(UInt8(length))
            message.append(contentsOf: answer)
        }
        return message
    }

    typealias CMessage = Spool__V1__EnqueueStreamResponse
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__enqueue_stream_response__init }

    init(c: UnsafePointer<CMessage>) {
        correlationId = c.pointee.correlation_id
        job = CRead.message(c.pointee.job, as: Job.self)
        deduplicated = c.pointee.deduplicated != 0
        errorCode = c.pointee.error_code
        errorMessage = CRead.string(c.pointee.error_message)
        more = CRead.messages(c.pointee.n_more, c.pointee.more, as: EnqueueStreamResponse.self)
        packs = c.pointee.packs != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.correlation_id = correlationId
        c.pointee.job = job.map(arena.message)
        c.pointee.deduplicated = deduplicated ? 1 : 0
        c.pointee.error_code = errorCode
        c.pointee.error_message = arena.string(errorMessage)
        c.pointee.n_more = more.count
        c.pointee.more = arena.messages(more)
        c.pointee.packs = packs ? 1 : 0
    }
}
