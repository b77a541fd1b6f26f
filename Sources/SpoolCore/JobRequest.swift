/// A job a caller asks to run (`spool.v1.JobSpec`), before the engine fills
/// in its defaults. Zero and empty mean "not set".
public struct JobRequest: Sendable, Equatable {
    public var queue = ""
    public var type: String
    public var payload: [UInt8] = []
    public var priority: Int32 = 0
    public var idempotencyKey = ""
    public var lockKeys: [String] = []
    public var rateKey = ""
    public var maxAttempts: Int32 = 0
    public var timeoutMs: Int64 = 0
    public var runAtMs: Int64 = 0
    public var labels: [String: String] = [:]

    public init(type: String, payload: [UInt8] = [], queue: String = "", priority: Int32 = 0) {
        self.type = type
        self.payload = payload
        self.queue = queue
        self.priority = priority
    }

    /// Why the engine cannot take this job, or nil.
    func problem(handlers: Set<String>, rateKeys: Set<String>) -> String? {
        if type.isEmpty { return "type is required" }
        if !handlers.contains(type) { return "no handler for job type \"\(type)\" (known: \(handlers.sorted().joined(separator: ", ")))" }
        if maxAttempts < 0 { return "max_attempts must not be negative" }
        if timeoutMs < 0 { return "timeout_ms must not be negative" }
        if runAtMs < 0 { return "run_at_ms must not be negative" }
        if lockKeys.contains(where: \.isEmpty) { return "lock_keys must not contain an empty key" }
        if !rateKey.isEmpty && !rateKeys.contains(rateKey) {
            return rateKeys.isEmpty ? "unknown rate_key \"\(rateKey)\" (none is configured)"
                : "unknown rate_key \"\(rateKey)\" (configured: \(rateKeys.sorted().joined(separator: ", ")))"
        }
        return nil
    }
}
