@testable import SpoolCore
import Testing

private func event(_ seq: UInt64, _ kind: JobEvent.Kind, job: String = "a", fraction: Double = 0) -> JobEvent {
    var record = JobRecord(id: JobID(job), seq: 1, queue: "q", type: "t", state: .running, maxAttempts: 1, timeoutMs: 0,
                           runAtMs: 0, createdAtMs: 0)
    record.progress.fraction = fraction
    return JobEvent(seq: seq, timeMs: 0, kind: kind, job: JobView(record: record), note: "", batch: nil)
}

@Suite(.timeLimit(.minutes(1)))
struct SubscriptionTests {
    @Test func anUnreadProgressEventIsReplacedByTheNextButStateEventsStay() async throws {
        let subscription = Subscription(limit: 100)
        subscription.push(event(1, .state))
        subscription.push(event(2, .progress, fraction: 0.1))
        subscription.push(event(3, .progress, fraction: 0.2))
        subscription.push(event(4, .progress, job: "b", fraction: 0.5))
        subscription.push(event(5, .state))
        subscription.push(event(6, .progress, fraction: 0.3))
        subscription.finish()
        var seqs: [UInt64] = []
        for try await event in subscription { seqs.append(event.seq) }
        #expect(seqs == [1, 3, 4, 5, 6])
    }

    @Test func aReaderTooFarBehindIsEndedWithWhereToResume() async throws {
        let subscription = Subscription(limit: 2)
        subscription.push(event(1, .state))
        var iterator = subscription.makeAsyncIterator()
        #expect(try await iterator.next()?.seq == 1)
        subscription.push(event(2, .state))
        subscription.push(event(3, .state))
        #expect(subscription.pendingBytes > 0)
        subscription.push(event(4, .state))
        // Its unsent events are dropped at once: the resume point is the last one read.
        #expect(subscription.pendingBytes == 0)
        await #expect(throws: SubscriptionError.tooSlow(resumeAfterSeq: 1)) { _ = try await iterator.next() }
    }

    @Test func theBudgetCountsWhatEveryStreamHoldsUnsentAndGivesItBackAsTheyRead() async throws {
        let budget = SubscriberBudget(limitBytes: .max)
        let a = Subscription(limit: 100, budget: budget), b = Subscription(limit: 100, budget: budget)
        a.push(event(1, .state))
        a.push(event(2, .progress, fraction: 0.5))
        b.push(event(3, .state))
        #expect(budget.usedBytes == a.pendingBytes + b.pendingBytes)
        #expect(budget.usedBytes == 3 * event(1, .state).estimatedBytes)
        var iterator = a.makeAsyncIterator()
        _ = try await iterator.next()
        #expect(budget.usedBytes == 2 * event(1, .state).estimatedBytes)
        b.endTooSlow()
        #expect(budget.usedBytes == a.pendingBytes)
        a.finish()
        _ = try await iterator.next()
        #expect(budget.usedBytes == 0)
    }

    @Test func aWaitingReaderGetsThePushedEventAndCancellationEndsTheWait() async throws {
        let subscription = Subscription(limit: 10)
        let reader = Task {
            var iterator = subscription.makeAsyncIterator()
            return try await iterator.next()
        }
        subscription.push(event(7, .state))
        #expect(try await reader.value?.seq == 7)
        let cancelled = Task {
            var iterator = subscription.makeAsyncIterator()
            return try await iterator.next()
        }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { _ = try await cancelled.value }
    }
}
