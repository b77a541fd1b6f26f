/// The ranges a job's numbers and strings must keep (docs/guarantees.md: Limits). A
/// request outside them is refused at the edge, naming the field and its
/// limit; what a worker says is clamped to them; a stored job outside them
/// is failed as corrupt when the server starts. Within them no sum the
/// engine makes can overflow: times stay below year 10000 plus ten years,
/// about 2.6e14 ms against Int64's 9.2e18.
public enum JobLimits {
    /// The longest timeout, delay or retry-after: ten years (of 366 days).
    public static let maxDurationMs: Int64 = 10 * 366 * 86_400_000
    /// The latest `run_at_ms`: 9999-12-31T23:59:59.999Z.
    public static let maxRunAtMs: Int64 = 253_402_300_799_999
    /// The most attempts a job may ask for.
    public static let maxAttempts: Int32 = 1_000
    /// The longest queue name, job type, lock key or rate key, in bytes.
    public static let maxNameBytes = 256
    /// The longest idempotency key, in bytes.
    public static let maxIdempotencyKeyBytes = 1_024
    /// The most lock keys one job may hold.
    public static let maxLockKeys = 32
    /// The most labels one job (or one batch) may carry.
    public static let maxLabels = 64
    /// The longest label key and label value, in bytes.
    public static let maxLabelKeyBytes = 256
    public static let maxLabelValueBytes = 4_096
    /// The most dependencies (jobs, batches and batch items) one job may have.
    public static let maxDependencies = 1_000

    /// `value` within 0…`maxDurationMs`: what a worker's retry-after is taken as.
    public static func clampedDurationMs(_ value: Int64) -> Int64 {
        min(max(0, value), maxDurationMs)
    }
}

extension Int64 {
    /// `self + other`, held at Int64's bounds instead of trapping.
    func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

extension Int64 {
    /// `value` rounded toward zero, held at Int64's bounds; 0 for NaN.
    init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 0x1p63 {
            self = .max
        } else if value < -0x1p63 {
            self = .min
        } else {
            self = Int64(value)
        }
    }
}
