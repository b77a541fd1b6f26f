/// A job as the engine and the store know it (DESIGN.md §2), without its
/// payload: payloads stay in the store while a job waits.
public struct JobRecord: Sendable, Equatable {
    public struct Progress: Sendable, Equatable {
        public var fraction: Double
        public var step: String
        public var message: String

        public init(fraction: Double = 0, step: String = "", message: String = "") {
            self.fraction = fraction
            self.step = step
            self.message = message
        }
    }

    public struct Failure: Sendable, Equatable {
        public var code: String
        public var message: String
        public var retryable: Bool

        public init(code: String, message: String, retryable: Bool) {
            self.code = code
            self.message = message
            self.retryable = retryable
        }
    }

    public var id: String
    /// Enqueue order, unique: FIFO among equal priorities.
    public var seq: Int64
    public var queue: String
    public var type: String
    public var priority: Int32
    public var state: JobState
    public var idempotencyKey: String?
    public var lockKeys: [String]
    public var rateKey: String?
    public var maxAttempts: Int32
    public var attempt: Int32 = 0
    public var timeoutMs: Int64
    public var runAtMs: Int64
    public var batchId: String?
    public var labels: [String: String] = [:]
    public var progress = Progress()
    public var result: [UInt8]?
    public var failure: Failure?
    public var createdAtMs: Int64
    public var startedAtMs: Int64?
    public var finishedAtMs: Int64?
    public var updatedAtMs: Int64

    public init(
        id: String, seq: Int64, queue: String, type: String, priority: Int32 = 0, state: JobState,
        idempotencyKey: String? = nil, lockKeys: [String] = [], rateKey: String? = nil,
        maxAttempts: Int32, timeoutMs: Int64, runAtMs: Int64, batchId: String? = nil,
        labels: [String: String] = [:], createdAtMs: Int64
    ) {
        self.id = id
        self.seq = seq
        self.queue = queue
        self.type = type
        self.priority = priority
        self.state = state
        self.idempotencyKey = idempotencyKey
        self.lockKeys = lockKeys
        self.rateKey = rateKey
        self.maxAttempts = maxAttempts
        self.timeoutMs = timeoutMs
        self.runAtMs = runAtMs
        self.batchId = batchId
        self.labels = labels
        self.createdAtMs = createdAtMs
        self.updatedAtMs = createdAtMs
    }
}

/// A job to store for the first time, with its payload.
public struct NewJob: Sendable, Equatable {
    public var record: JobRecord
    public var payload: [UInt8]

    public init(_ record: JobRecord, payload: [UInt8]) {
        self.record = record
        self.payload = payload
    }
}
