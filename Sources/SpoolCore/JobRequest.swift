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
    /// The rest, out of line: most jobs set none of it, and a request is
    /// copied several times on its way in.
    private var extras: ExtrasBox?

    /// Tokens the job takes from its rate key's bucket (0: 1).
    public var rateCost: Int32 {
        get { extras?.value.rateCost ?? 0 }
        set { changeExtras { $0.rateCost = newValue } }
    }
    /// Start by this time or fail `expired`; 0: no such time (but the
    /// queue's `max_wait`, if it has one).
    public var expireAtMs: Int64 {
        get { extras?.value.expireAtMs ?? 0 }
        set { changeExtras { $0.expireAtMs = newValue } }
    }
    /// Jobs (ids) and batches it waits for; `dependsOnItems`: earlier
    /// items of the same EnqueueBatch, by index.
    public var dependsOn: [String] {
        get { extras?.value.dependsOn ?? [] }
        set { changeExtras { $0.dependsOn = newValue } }
    }
    public var dependsOnBatches: [String] {
        get { extras?.value.dependsOnBatches ?? [] }
        set { changeExtras { $0.dependsOnBatches = newValue } }
    }
    public var dependsOnItems: [Int] {
        get { extras?.value.dependsOnItems ?? [] }
        set { changeExtras { $0.dependsOnItems = newValue } }
    }
    public var runIfDependenciesFail: Bool {
        get { extras?.value.runIfDependenciesFail ?? false }
        set { changeExtras { $0.runIfDependenciesFail = newValue } }
    }
    /// Joins this running job's batch.
    public var parentID: String {
        get { extras?.value.parentID ?? "" }
        set { changeExtras { $0.parentID = newValue } }
    }

    var hasDependencies: Bool {
        guard let extras = extras?.value else { return false }
        return !extras.dependsOn.isEmpty || !extras.dependsOnBatches.isEmpty || !extras.dependsOnItems.isEmpty
    }

    private struct Extras: Sendable, Equatable {
        var rateCost: Int32 = 0
        var expireAtMs: Int64 = 0
        var dependsOn: [String] = []
        var dependsOnBatches: [String] = []
        var dependsOnItems: [Int] = []
        var runIfDependenciesFail = false
        var parentID = ""
    }

    /// Copy on write by hand, as `JobRecord`'s details.
    private final class ExtrasBox: @unchecked Sendable {
        var value: Extras

        init(_ value: Extras) { self.value = value }
    }

    private mutating func changeExtras(_ change: (inout Extras) -> Void) {
        if extras == nil {
            extras = ExtrasBox(Extras())
        } else if !isKnownUniquelyReferenced(&extras) {
            extras = ExtrasBox(extras!.value)
        }
        change(&extras!.value)
    }

    public static func == (a: JobRequest, b: JobRequest) -> Bool {
        a.queue == b.queue && a.type == b.type && a.payload == b.payload && a.priority == b.priority
            && a.idempotencyKey == b.idempotencyKey && a.lockKeys == b.lockKeys && a.rateKey == b.rateKey
            && a.maxAttempts == b.maxAttempts && a.timeoutMs == b.timeoutMs && a.runAtMs == b.runAtMs && a.labels == b.labels
            && (a.extras?.value ?? Extras()) == (b.extras?.value ?? Extras())
    }

    public init(type: String, payload: [UInt8] = [], queue: String = "", priority: Int32 = 0) {
        self.type = type
        self.payload = payload
        self.queue = queue
        self.priority = priority
    }

    /// Why the engine cannot take this job, or nil. Each limit is named
    /// with the field it bounds (`JobLimits`).
    func problem(handlers: Set<String>, rateKeys: [String: RateLimit]) -> String? {
        if type.isEmpty { return "type is required" }
        if let problem = Self.nameProblem(type, field: "type") { return problem }
        if !handlers.contains(type) { return "no handler for job type \"\(type)\" (known: \(handlers.sorted().joined(separator: ", ")))" }
        if let problem = Self.nameProblem(queue, field: "queue") { return problem }
        if !(0...JobLimits.maxAttempts).contains(maxAttempts) {
            return "max_attempts must be 0 (the queue's default) to \(JobLimits.maxAttempts), not \(maxAttempts)"
        }
        if !(0...JobLimits.maxDurationMs).contains(timeoutMs) {
            return "timeout_ms must be 0 (the queue's default) to \(JobLimits.maxDurationMs) (ten years), not \(timeoutMs)"
        }
        if !(0...JobLimits.maxRunAtMs).contains(runAtMs) {
            return "run_at_ms must be 0 (now) to \(JobLimits.maxRunAtMs) (9999-12-31T23:59:59.999Z), not \(runAtMs)"
        }
        if !(0...JobLimits.maxRunAtMs).contains(expireAtMs) {
            return "expire_at_ms must be 0 (none) to \(JobLimits.maxRunAtMs) (9999-12-31T23:59:59.999Z), not \(expireAtMs)"
        }
        if expireAtMs != 0 && expireAtMs < runAtMs {
            return "expire_at_ms \(expireAtMs) is before run_at_ms \(runAtMs): the job could never start"
        }
        if idempotencyKey.utf8.count > JobLimits.maxIdempotencyKeyBytes {
            return "idempotency_key is \(idempotencyKey.utf8.count) bytes; the limit is \(JobLimits.maxIdempotencyKeyBytes)"
        }
        if lockKeys.count > JobLimits.maxLockKeys {
            return "lock_keys has \(lockKeys.count) keys; the limit is \(JobLimits.maxLockKeys)"
        }
        for (index, key) in lockKeys.enumerated() {
            if key.isEmpty { return "lock_keys must not contain an empty key" }
            if let problem = Self.nameProblem(key, field: "lock_keys[\(index)]") { return problem }
        }
        if !rateKey.isEmpty && rateKeys[rateKey] == nil {
            let shown = rateKey.utf8.count > JobLimits.maxNameBytes ? String(rateKey.prefix(40)) + "…" : rateKey
            return rateKeys.isEmpty ? "unknown rate_key \"\(shown)\" (none is configured)"
                : "unknown rate_key \"\(shown)\" (configured: \(rateKeys.keys.sorted().joined(separator: ", ")))"
        }
        if rateCost < 0 { return "rate_cost must be 0 (1 token) or more, not \(rateCost)" }
        if rateCost > 1 {
            guard let limit = rateKeys[rateKey] else { return "rate_cost \(rateCost) needs a rate_key to take its tokens from" }
            if Double(rateCost) > limit.burst {
                return "rate_cost \(rateCost) is more than rate key \(rateKey)'s burst (\(Int64(saturating: limit.burst))): "
                    + "the job could never start"
            }
        }
        if let problem = dependenciesProblem() { return problem }
        if let problem = Self.idProblem(parentID, field: "parent_id") { return problem }
        return Self.labelsProblem(labels, field: "labels")
    }

    private func dependenciesProblem() -> String? {
        let count = dependsOn.count + dependsOnBatches.count + dependsOnItems.count
        if count > JobLimits.maxDependencies {
            return "the job has \(count) dependencies (depends_on, depends_on_batches, depends_on_items); "
                + "the limit is \(JobLimits.maxDependencies)"
        }
        for (index, id) in dependsOn.enumerated() {
            if id.isEmpty { return "depends_on[\(index)] is empty" }
            if let problem = Self.idProblem(id, field: "depends_on[\(index)]") { return problem }
        }
        for (index, id) in dependsOnBatches.enumerated() {
            if id.isEmpty { return "depends_on_batches[\(index)] is empty" }
            if let problem = Self.idProblem(id, field: "depends_on_batches[\(index)]") { return problem }
        }
        return nil
    }

    /// Ids are made by the engine: UUID text, or older ids of at most a name's length.
    static func idProblem(_ id: String, field: String) -> String? {
        id.utf8.count > JobLimits.maxNameBytes ? "\(field) is \(id.utf8.count) bytes; no id is longer than \(JobLimits.maxNameBytes)" : nil
    }

    static func nameProblem(_ name: String, field: String) -> String? {
        name.utf8.count > JobLimits.maxNameBytes
            ? "\(field) is \(name.utf8.count) bytes; the limit is \(JobLimits.maxNameBytes)" : nil
    }

    /// Why `labels` (a job's, or a batch's) are out of bounds, or nil.
    static func labelsProblem(_ labels: [String: String], field: String) -> String? {
        if labels.count > JobLimits.maxLabels { return "\(field) has \(labels.count) entries; the limit is \(JobLimits.maxLabels)" }
        for (key, value) in labels {
            if key.utf8.count > JobLimits.maxLabelKeyBytes {
                return "\(field): a key is \(key.utf8.count) bytes; the limit is \(JobLimits.maxLabelKeyBytes)"
            }
            if value.utf8.count > JobLimits.maxLabelValueBytes {
                return "\(field)[\"\(key)\"] is \(value.utf8.count) bytes; the limit is \(JobLimits.maxLabelValueBytes)"
            }
        }
        return nil
    }
}
