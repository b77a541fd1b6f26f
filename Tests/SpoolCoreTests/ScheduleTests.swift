import Foundation
import SpoolCore
import Testing

/// Cron schedules at the engine, on the manual clock (1_700_000_000_000 is
/// 2023-11-14T22:13:20Z): fires, overlap, and what a restart does.
@Suite(.timeLimit(.minutes(1)))
struct ScheduleTests {
    private static let start: Int64 = 1_700_000_000_000

    private static func schedule(_ name: String = "tick", overlap: Schedule.Overlap = .allow,
                                 missed: Schedule.Missed = .runOnce) throws -> Schedule {
        Schedule(name: name, cron: try CronExpression("*/10 * * * * *"), job: JobRequest(type: "gate"), overlap: overlap, missed: missed)
    }

    private static func harness(_ schedule: Schedule, store: InMemoryJobStore = InMemoryJobStore()) -> EngineHarness {
        EngineHarness({ $0.schedules = [schedule] }, store: store)
    }

    @Test func aScheduleEnqueuesItsJobAtEachFireTime() async throws {
        let h = Self.harness(try Self.schedule())
        try await h.start()
        let before = try await h.engine.status().schedules
        #expect(before.map(\.nextFireMs) == [Self.start + 10_000] && before[0].lastFireMs == 0)
        h.clock.advance(byMs: 10_000)
        let first = await h.nextStart()
        let job = try await h.view(first).record
        #expect(job.idempotencyKey == "schedule:tick:\(Self.start + 10_000)" && job.labels["schedule"] == "tick")
        await h.clock.waitForSleeper(untilMs: Self.start + 20_000)
        h.clock.advance(byMs: 10_000)
        let second = await h.nextStart()
        #expect(second != first)
        let status = try await h.engine.status().schedules[0]
        #expect(status.lastFireMs == Self.start + 20_000 && status.nextFireMs == Self.start + 30_000)
        #expect(status.fired == 2 && status.cron == "*/10 * * * * *" && status.timeZone == "UTC")
        #expect(h.store.schedule("tick") == ScheduleRecord(lastFireMs: Self.start + 20_000, lastJobID: second))
        h.gate.open(first)
        h.gate.open(second)
    }

    @Test func aFireWhileTheLastJobRunsIsSkipped() async throws {
        let h = Self.harness(try Self.schedule(overlap: .skip))
        try await h.start()
        h.clock.advance(byMs: 10_000)
        let first = await h.nextStart()
        await h.clock.waitForSleeper(untilMs: Self.start + 20_000)
        h.clock.advance(byMs: 10_000)
        await h.clock.waitForSleeper(untilMs: Self.start + 30_000)
        let status = try await h.engine.status().schedules[0]
        #expect(status.skipped == 1 && status.fired == 1 && status.lastJobID == first)
        #expect(status.lastError == "skipped the fire at \(Self.start + 20_000): job \(first) had not ended (overlap: skip)")
        h.gate.open(first)
        try await h.until(first, is: .succeeded)
        h.clock.advance(byMs: 10_000)
        let next = await h.nextStart()
        #expect(next != first)
        h.gate.open(next)
    }

    @Test func aRestartRunsTheLatestMissedFireOnceAndNeverTwice() async throws {
        let store = InMemoryJobStore()
        let before = Self.harness(try Self.schedule(), store: store)
        try await before.start()
        before.clock.advance(byMs: 10_000)
        let first = await before.nextStart()
        await before.clock.waitForSleeper(untilMs: Self.start + 20_000)
        await before.engine.shutdown(gracePeriodMs: 0)

        // Down for 35 s: the fires at +20, +30 and +40 s were missed; one job, for +40 s.
        let after = Self.harness(try Self.schedule(), store: store)
        after.clock.advance(byMs: 45_000)
        try await after.start()
        // The first job was running at the stop: it starts again too.
        let starts = [await after.nextStart(), await after.nextStart()]
        #expect(starts.contains(first))
        let caughtUp = try #require(starts.first { $0 != first })
        #expect(try await after.view(caughtUp).record.idempotencyKey == "schedule:tick:\(Self.start + 40_000)")
        let status = try await after.engine.status().schedules[0]
        #expect(status.nextFireMs == Self.start + 50_000)

        // Its fire was not stored (a crash right after the job's commit): the next start fires it again,
        // and the job is not made twice.
        await after.engine.shutdown(gracePeriodMs: 0)
        try await store.save(ScheduleRecord(lastFireMs: Self.start + 10_000, lastJobID: first), forSchedule: "tick")
        let again = Self.harness(try Self.schedule(), store: store)
        again.clock.advance(byMs: 45_000)
        try await again.start()
        await again.clock.waitForSleeper(untilMs: Self.start + 50_000)
        while try await again.engine.status().schedules[0].fired == 0 { await Task.yield() }
        let records = try await store.jobs(matching: JobQuery()).jobs
        #expect(records.filter { $0.idempotencyKey == "schedule:tick:\(Self.start + 40_000)" }.count == 1)
        #expect(try await again.engine.status().schedules[0].lastJobID == caughtUp)
    }

    @Test func missedSkipWaitsForTheNextFire() async throws {
        let store = InMemoryJobStore()
        try await store.save(ScheduleRecord(lastFireMs: Self.start - 60_000, lastJobID: nil), forSchedule: "tick")
        let h = Self.harness(try Self.schedule(missed: .skip), store: store)
        try await h.start()
        let status = try await h.engine.status().schedules[0]
        #expect(status.fired == 0 && status.nextFireMs == Self.start + 10_000)
        #expect(try await store.jobs(matching: JobQuery()).jobs.isEmpty)
    }
}
