#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long a retryable failure waits before the next attempt (docs/design.md §3):
/// `min(max, initial × multiplier^(attempt − 1))`, with full jitter, so that
/// jobs failing together do not retry together.
public struct Backoff: Sendable, Equatable {
    public var initialMs: Int64
    public var multiplier: Double
    public var maxMs: Int64

    public init(initialMs: Int64 = 1_000, multiplier: Double = 2, maxMs: Int64 = 300_000) {
        precondition(initialMs >= 0 && multiplier >= 1 && maxMs >= initialMs, "backoff: 0 ≤ initial ≤ max, multiplier ≥ 1")
        self.initialMs = initialMs
        self.multiplier = multiplier
        self.maxMs = maxMs
    }

    /// The longest wait after `attempt` (1 for the first) failed.
    public func ceilingMs(afterAttempt attempt: Int) -> Int64 {
        guard initialMs > 0 else { return 0 }
        let growth = Double(initialMs) * pow(multiplier, Double(max(0, attempt - 1)))
        // pow may reach infinity; an infinite or huge growth is the ceiling.
        return growth.isFinite && growth < Double(maxMs) ? Int64(growth) : maxMs
    }

    /// A wait drawn uniformly from 0 through the ceiling.
    public func delayMs(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Int64 {
        Int64.random(in: 0...ceilingMs(afterAttempt: attempt), using: &generator)
    }
}
