import Testing
import SpoolCore

/// The bucket behind a reference, so that `#expect` can call its mutating methods.
private final class Bucket {
    var bucket: TokenBucket
    init(rate: Double, burst: Double, recovery: RateRecovery = RateRecovery()) {
        bucket = TokenBucket(ratePerSecond: rate, burst: burst, recovery: recovery, nowMs: 0)
    }
    func take(at ms: Int64) -> Bool { bucket.take(atMs: ms) }
    func takeAll(at ms: Int64) -> Int { var taken = 0; while bucket.take(atMs: ms) { taken += 1 }; return taken }
}

struct TokenBucketTests {
    @Test func aFullBucketGivesItsBurstThenRefillsAtItsRate() {
        let bucket = Bucket(rate: 10, burst: 5)
        #expect(bucket.takeAll(at: 0) == 5)
        #expect(bucket.bucket.nextTokenMs(atMs: 0) == 100)
        #expect(!bucket.take(at: 99))
        #expect(bucket.take(at: 100))
        #expect(bucket.takeAll(at: 10_000) == 5, "refill stops at the burst")
    }

    @Test func rateLimitingHalvesTheRateAndHoldsUntilRetryAfter() {
        let bucket = Bucket(rate: 10, burst: 5)
        bucket.bucket.rateLimited(atMs: 1_000, retryAfterMs: 2_000)
        #expect(bucket.bucket.rate == 5)
        #expect(bucket.bucket.nextTokenMs(atMs: 1_000) == 3_000)
        #expect(!bucket.take(at: 2_999))
        #expect(bucket.take(at: 3_000))
        #expect(bucket.bucket.nextTokenMs(atMs: 3_000) == 3_200, "the next token comes at the halved rate")
    }

    @Test func aBurstOfRateLimitedAnswersCountsOnce() {
        let bucket = Bucket(rate: 100, burst: 10)
        for ms in stride(from: Int64(0), to: 999, by: 100) {
            bucket.bucket.rateLimited(atMs: ms, retryAfterMs: 0)
        }
        #expect(bucket.bucket.rate == 50)
        bucket.bucket.rateLimited(atMs: 1_000, retryAfterMs: 0)
        #expect(bucket.bucket.rate == 25)
    }

    @Test func theRateNeverFallsBelowItsFloor() {
        let bucket = Bucket(rate: 100, burst: 1)
        for second in 0..<20 { bucket.bucket.rateLimited(atMs: Int64(second) * 1_000, retryAfterMs: 0) }
        #expect(bucket.bucket.rate == 1)
    }

    @Test func successesRecoverAdditivelyUpToTheConfiguredRate() {
        let bucket = Bucket(rate: 100, burst: 1)
        bucket.bucket.rateLimited(atMs: 0, retryAfterMs: 0)
        #expect(bucket.bucket.rate == 50)
        for _ in 0..<10 { bucket.bucket.succeeded(atMs: 10) }
        #expect(bucket.bucket.rate == 70)
        for _ in 0..<100 { bucket.bucket.succeeded(atMs: 20) }
        #expect(bucket.bucket.rate == 100)
    }

    @Test func aConfiguredRecoverySlowsAndRecoversByItsOwnSteps() {
        let bucket = Bucket(rate: 100, burst: 1, recovery: RateRecovery(decrease: 0.8, recovery: 0.05))
        bucket.bucket.rateLimited(atMs: 0, retryAfterMs: 0)
        #expect(bucket.bucket.rate == 80)
        for _ in 0..<2 { bucket.bucket.succeeded(atMs: 10) }
        #expect(bucket.bucket.rate == 90)
        let unchanged = Bucket(rate: 100, burst: 1, recovery: RateRecovery(decrease: 1, recovery: 0.02))
        unchanged.bucket.rateLimited(atMs: 0, retryAfterMs: 500)
        #expect(unchanged.bucket.rate == 100, "decrease 1: the retry-after wait only")
        #expect(unchanged.bucket.nextTokenMs(atMs: 0) == 500)
    }

    @Test func timeGoingBackwardsDoesNotMintTokens() {
        let bucket = Bucket(rate: 10, burst: 1)
        #expect(bucket.take(at: 1_000))
        #expect(!bucket.take(at: 500))
        #expect(bucket.bucket.tokens(atMs: 500) == 0)
    }
}
