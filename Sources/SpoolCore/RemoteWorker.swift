// Remote workers (docs/workers.md): processes elsewhere that take
// jobs of configured types over one stream each. The transport turns the
// stream's messages into the engine's `worker…` calls and sends the
// `WorkerCommand`s the engine gives it; every decision stays in the engine.

/// How a configured remote type's jobs are leased.
public struct RemoteTypeConfiguration: Sendable, Equatable {
    /// How long a job stays with its worker without a heartbeat (or
    /// progress) from it; then it is lost and retried.
    public var leaseMs: Int64
    /// Least and most a lease can be configured to.
    public static let leaseRangeMs: ClosedRange<Int64> = 1_000...86_400_000

    public init(leaseMs: Int64 = 60_000) {
        self.leaseMs = leaseMs
    }
}

/// What a worker says about itself when it connects.
public struct WorkerHello: Sendable, Equatable {
    /// Shown in status, e.g. "render-gpu-3".
    public var name: String
    /// The job types it runs; each must be a configured remote type.
    public var types: [String]
    /// Jobs it runs at once.
    public var capacity: Int
    /// Labels it describes itself with (host, version…), shown in status.
    public var labels: [String: String]
    /// Where it connected from, as the transport sees it.
    public var peer: String

    public init(name: String, types: [String], capacity: Int, labels: [String: String] = [:], peer: String = "") {
        self.name = name
        self.types = types
        self.capacity = capacity
        self.labels = labels
        self.peer = peer
    }

    /// Most jobs one worker may take at once.
    public static let maxCapacity = 10_000
    /// Most types one worker may name.
    public static let maxTypes = 256

    /// Why the engine cannot take this hello, or nil. `remoteTypes` are the
    /// configured ones.
    func problem(remoteTypes: [String: RemoteTypeConfiguration]) -> String? {
        if name.utf8.count > JobLimits.maxNameBytes {
            return "name is \(name.utf8.count) bytes; the limit is \(JobLimits.maxNameBytes)"
        }
        guard !types.isEmpty else { return "types must name at least one job type" }
        if types.count > Self.maxTypes { return "types names \(types.count) types; the limit is \(Self.maxTypes)" }
        for type in types where remoteTypes[type] == nil {
            let shown = type.utf8.count > 64 ? String(type.prefix(40)) + "…" : type
            return remoteTypes.isEmpty
                ? "job type \"\(shown)\" is not a remote type here: this server has none (configure types: \(shown): {remote: {}})"
                : "job type \"\(shown)\" is not a remote type here (remote: \(remoteTypes.keys.sorted().joined(separator: ", ")))"
        }
        guard (1...Self.maxCapacity).contains(capacity) else {
            return "capacity must be from 1 to \(Self.maxCapacity), not \(capacity)"
        }
        return JobRequest.labelsProblem(labels, field: "labels")
    }
}

/// What the engine answers a worker that connects.
public struct WorkerSession: Sendable, Equatable {
    /// Names the worker in status and logs; unique while the server runs.
    public var workerID: String
    /// How often the worker should send a heartbeat: a third of the
    /// shortest lease of its types.
    public var heartbeatIntervalMs: Int64
}

/// Names one leased attempt: every message about a job carries it, and
/// anything that does not match the job's current lease is refused.
public struct LeaseRef: Sendable, Equatable, Hashable {
    public var jobID: String
    public var attempt: Int32
    public var leaseID: String

    public init(jobID: String, attempt: Int32, leaseID: String) {
        self.jobID = jobID
        self.attempt = attempt
        self.leaseID = leaseID
    }
}

/// A job handed to a worker.
public struct JobAssignment: Sendable, Equatable {
    public var lease: LeaseRef
    public var type: String
    public var queue: String
    public var payload: [UInt8]
    public var maxAttempts: Int32
    public var priority: Int32
    /// When the attempt times out (Unix ms); 0: never.
    public var deadlineMs: Int64
    public var leaseMs: Int64
    public var labels: [String: String]
    public var batchID: String
    /// How the batches it waited for ended (JSON), or "".
    public var dependencySummary = ""
}

/// How a worker's run of a job ended.
public enum WorkerOutcome: Sendable, Equatable {
    case succeeded(result: [UInt8])
    /// A failure: retried unless `permanent` or no attempt is left. With
    /// `retryAfterMs` the downstream said "rate limited" (as an exec worker's
    /// `retry_after_ms`).
    case failed(message: String, permanent: Bool, retryAfterMs: Int64?)
    /// The worker gives the job back without having run it (it is draining):
    /// queued again, its attempt not counted.
    case released(reason: String)
}

/// Why the engine asks a worker to stop a job.
public enum WorkerCancelCause: Sendable, Equatable {
    /// A Cancel request.
    case request
    /// The attempt ran past its timeout.
    case timeout
    /// The server is stopping and its grace period is over.
    case shutdown
    /// The lease ran out: the job went back to the queue.
    case leaseLost
}

/// Why a worker's message about a job changed nothing.
public enum WorkerRefusal: Sendable, Equatable {
    /// The lease is not (or no longer) this worker's: it expired, the job
    /// was finished by the server, or it belongs to another attempt.
    case leaseLost
    /// No job was leased under this reference.
    case unknownLease
}

/// What the engine tells a worker, in order.
public enum WorkerCommand: Sendable, Equatable {
    /// The first command: the worker is connected.
    case welcome(WorkerSession)
    case assign(JobAssignment)
    case cancel(LeaseRef, cause: WorkerCancelCause, message: String)
    /// Take no new jobs; finish (or release) the ones held by `deadlineMs`.
    case drain(deadlineMs: Int64, message: String)
    /// A result, failure or release was refused: it changed nothing. (One
    /// that is taken is not answered: the stream's order is the receipt.)
    case refused(LeaseRef, WorkerRefusal, message: String)
    /// The stream ends with this error; no command follows.
    case close(EngineError)
}

/// What status shows of a connected worker.
public struct RemoteWorkerStatus: Sendable, Equatable {
    public var workerID: String
    public var name: String
    public var peer: String
    public var types: [String]
    public var capacity: Int
    public var jobIDs: [String]
    public var labels: [String: String]
    public var connectedAtMs: Int64
    public var lastHeartbeatMs: Int64
    public var draining: Bool
}

/// One thing a worker's stream said (`QueueEngine.workerReports`).
public enum WorkerReport: Sendable, Equatable {
    case heartbeat
    case progress(LeaseRef, JobRecord.Progress)
    case finished(LeaseRef, WorkerOutcome)
    case draining
    /// The stream ended.
    case disconnected
}
