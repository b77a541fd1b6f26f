/// A token bucket for one queue or one rate key (docs/design.md §3): dispatch
/// takes a token; tokens refill at `rate` per second up to `burst`.
///
/// Adaptive: when a downstream answers "rate limited, retry after T", the
/// bucket multiplies its rate by `recovery.decrease` (by default halves it;
/// at most once a second, so a burst of such answers counts once) and gives
/// out nothing until T has passed; each success then adds back
/// `recovery.recovery` (2%) of the configured rate. Over time the rate
/// settles just under the downstream's real limit. Times are milliseconds
/// since the epoch.
public struct TokenBucket: Sendable, Equatable {
    /// The rate never falls below this share of the configured one.
    public static let floorShare = 0.01
    public static let decreaseCooldownMs: Int64 = 1000
    /// Refills add up in floating point; a token this close to whole is whole.
    private static let tolerance = 1e-9
    private static let longestWaitMs = 100 * 366 * 86_400_000.0

    public init(_ limit: RateLimit, nowMs: Int64) {
        self.init(ratePerSecond: limit.ratePerSecond, burst: limit.burst, recovery: limit.recovery, nowMs: nowMs)
    }

    public let configuredRate: Double
    public let burst: Double
    public let recovery: RateRecovery
    public private(set) var rate: Double
    private var tokens: Double
    private var updatedAtMs: Int64
    private var lastDecreaseMs: Int64?

    public init(ratePerSecond: Double, burst: Double, recovery: RateRecovery = RateRecovery(), nowMs: Int64) {
        precondition(ratePerSecond > 0 && burst >= 1, "a bucket needs a positive rate and a burst of at least 1")
        precondition(recovery.decrease > 0 && recovery.decrease <= 1 && recovery.recovery > 0,
                     "a bucket's decrease is in (0, 1] and its recovery positive")
        configuredRate = ratePerSecond
        self.burst = burst
        self.recovery = recovery
        rate = ratePerSecond
        tokens = burst
        updatedAtMs = nowMs
    }

    /// Tokens available at `nowMs` (negative while a retry-after holds).
    public func tokens(atMs nowMs: Int64) -> Double {
        min(burst, tokens + Double(max(0, nowMs - updatedAtMs)) * rate / 1000)
    }

    /// Takes `count` tokens (a job's `rate_cost`) if there are as many.
    public mutating func take(_ count: Double = 1, atMs nowMs: Int64) -> Bool {
        refill(nowMs)
        guard tokens >= count - Self.tolerance else { return false }
        tokens = max(0, tokens - count)
        return true
    }

    /// Whether `take(count)` would succeed at `nowMs`.
    public func has(_ count: Double = 1, atMs nowMs: Int64) -> Bool {
        tokens(atMs: nowMs) >= count - Self.tolerance
    }

    /// The earliest time `take(count)` can succeed.
    public func nextTokenMs(for count: Double = 1, atMs nowMs: Int64) -> Int64 {
        let missing = count - tokens(atMs: nowMs)
        guard missing > Self.tolerance else { return nowMs }
        let waitMs = (missing * 1000 / rate - Self.tolerance).rounded(.up)
        // A configured rate is at least 1e-6/s and a debt at most ten years
        // (JobLimits), so the wait is finite; held to a century regardless.
        return nowMs.saturatingAdd(waitMs.isFinite && waitMs < Self.longestWaitMs ? Int64(waitMs) : Int64(Self.longestWaitMs))
    }

    /// The downstream said "rate limited": slow down, and wait `retryAfterMs`.
    public mutating func rateLimited(atMs nowMs: Int64, retryAfterMs: Int64) {
        refill(nowMs)
        if lastDecreaseMs.map({ nowMs - $0 >= Self.decreaseCooldownMs }) ?? true {
            rate = max(configuredRate * Self.floorShare, rate * recovery.decrease)
            lastDecreaseMs = nowMs
        }
        // A debt that refills to one token exactly when the wait is over.
        tokens = min(tokens, 1 - Double(max(0, retryAfterMs)) * rate / 1000)
    }

    /// A job under this bucket succeeded: recover toward the configured rate.
    public mutating func succeeded(atMs nowMs: Int64) {
        refill(nowMs)
        rate = min(configuredRate, rate + configuredRate * recovery.recovery)
    }

    private mutating func refill(_ nowMs: Int64) {
        tokens = tokens(atMs: nowMs)
        updatedAtMs = max(updatedAtMs, nowMs)
    }
}
