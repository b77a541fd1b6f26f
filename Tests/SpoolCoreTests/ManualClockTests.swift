import Testing
import SpoolCore

@Suite(.timeLimit(.minutes(1)))
struct ManualClockTests {
    @Test func sleepersWakeWhenTheClockReachesTheirDeadline() async throws {
        let clock = ManualClock(nowMs: 1_000)
        let woke = AsyncStream.makeStream(of: Int64.self)
        for deadline: Int64 in [1_500, 1_200] {
            Task {
                try await clock.sleep(untilMs: deadline)
                woke.continuation.yield(deadline)
            }
        }
        while clock.sleeperCount < 2 { await Task.yield() }
        clock.advance(byMs: 199)
        clock.advance(byMs: 1)  // 1_200
        var wakes = woke.stream.makeAsyncIterator()
        #expect(await wakes.next() == 1_200)
        #expect(clock.sleeperCount == 1)
        clock.advance(byMs: 300)  // 1_500
        #expect(await wakes.next() == 1_500)
        #expect(clock.nowMs == 1_500)
    }

    @Test func aPastDeadlineReturnsAtOnce() async throws {
        let clock = ManualClock(nowMs: 5)
        try await clock.sleep(untilMs: 5)
        try await clock.sleep(untilMs: -1)
        #expect(clock.sleeperCount == 0)
    }

    @Test func cancellingASleeperThrowsAndForgetsIt() async {
        let clock = ManualClock(nowMs: 0)
        let sleeper = Task { try await clock.sleep(untilMs: 1_000) }
        while clock.sleeperCount < 1 { await Task.yield() }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func theSystemClockIsTheUnixEpochInMilliseconds() {
        // 2024-01-01 and 2100-01-01: a clock in seconds or microseconds would fall outside.
        #expect((1_704_067_200_000..<4_102_444_800_000).contains(SystemClock().nowMs))
    }
}
