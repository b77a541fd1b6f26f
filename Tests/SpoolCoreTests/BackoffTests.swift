import Testing
import SpoolCore

struct BackoffTests {
    @Test func theCeilingGrowsGeometricallyUpToTheMaximum() {
        let backoff = Backoff(initialMs: 100, multiplier: 3, maxMs: 2_000)
        #expect((1...5).map { backoff.ceilingMs(afterAttempt: $0) } == [100, 300, 900, 2_000, 2_000])
        #expect(backoff.ceilingMs(afterAttempt: 10_000) == 2_000, "no overflow on huge attempt numbers")
    }

    @Test func delaysAreFullyJitteredWithinTheCeiling() {
        let backoff = Backoff(initialMs: 1_000, multiplier: 2, maxMs: 60_000)
        var generator = SeededGenerator(seed: 3)
        let delays = (0..<2_000).map { _ in backoff.delayMs(afterAttempt: 3, using: &generator) }
        #expect(delays.allSatisfy { (0...4_000).contains($0) })
        // Full jitter spreads over the whole range, not just near the ceiling.
        #expect(delays.min()! < 400 && delays.max()! > 3_600)
    }

    @Test func aZeroInitialMeansRetryAtOnce() {
        var generator = SeededGenerator(seed: 1)
        #expect(Backoff(initialMs: 0, multiplier: 2, maxMs: 0).delayMs(afterAttempt: 4, using: &generator) == 0)
    }
}

struct SeededGenerator: RandomNumberGenerator {
    var state: SplitMix
    init(seed: UInt64) { state = SplitMix(seed: seed) }
    mutating func next() -> UInt64 { state.next() }
}
