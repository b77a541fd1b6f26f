/// Runs jobs of one type (docs/design.md §6). Cancellation is Swift task
/// cancellation: a handler stops promptly when its task is cancelled (a
/// cancel request or a timeout).
public protocol JobHandler: Sendable {
    /// The result bytes. Throw `JobFailure` to say whether to retry; any
    /// other error counts as retryable.
    func run(_ job: JobContext) async throws -> [UInt8]
}

/// What a handler knows of the job it runs, and its way to report progress.
public struct JobContext: Sendable {
    public let id: String
    public let type: String
    /// 1 for the first attempt.
    public let attempt: Int32
    public let payload: [UInt8]
    public let labels: [String: String]
    /// The job's batch, or "".
    public let batchID: String
    /// How the batches it waited for ended (JSON), or "" (`JobRecord.dependencySummary`).
    public let dependencySummary: String
    let reporter: @Sendable (JobRecord.Progress) async -> Void

    public init(id: String, type: String, attempt: Int32, payload: [UInt8], labels: [String: String] = [:],
                batchID: String = "", dependencySummary: String = "",
                reporter: @escaping @Sendable (JobRecord.Progress) async -> Void) {
        self.id = id
        self.type = type
        self.attempt = attempt
        self.payload = payload
        self.labels = labels
        self.batchID = batchID
        self.dependencySummary = dependencySummary
        self.reporter = reporter
    }

    /// Tells watchers how far the job is; `fraction` is clamped to 0…1.
    public func report(progress fraction: Double, step: String = "", message: String = "") async {
        await reporter(JobRecord.Progress(fraction: min(1, max(0, fraction.isNaN ? 0 : fraction)), step: step, message: message))
    }
}

/// How a handler says a run failed.
public enum JobFailure: Error, Sendable, Equatable {
    /// Worth another attempt. With `retryAfterMs` the downstream said "rate
    /// limited": the job waits that long and its rate limiters slow down.
    case retryable(String, retryAfterMs: Int64? = nil)
    /// No attempt can succeed: the job fails now.
    case permanent(String)
}
