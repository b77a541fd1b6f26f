@testable import SpoolServer
import SpoolWire
import Testing

/// EnqueueStream's bookkeeping: places for jobs in flight, answers handed over as they come.
@Suite(.timeLimit(.minutes(1)))
struct EnqueueStreamAnswersTests {
    @Test func aReservationWaitsWhileTheLimitIsInFlightAndAnAnswerFreesAPlace() async throws {
        let answers = EnqueueStreamCall.Answers(limit: 2)
        try await answers.reserve()
        try await answers.reserve()
        let (reserved, signal) = AsyncStream.makeStream(of: Void.self)
        let waiter = Task {
            try await answers.reserve()
            signal.yield()
        }
        // The third place is free only once an answer came: until then it waits.
        while !answers.isReservationWaiting { await Task.yield() }
        answers.add(EnqueueStreamResponse(correlationId: 1))
        var iterator = reserved.makeAsyncIterator()
        await iterator.next()
        try await waiter.value
    }

    @Test func aFailedCallLetsAWaitingReservationGo() async throws {
        let answers = EnqueueStreamCall.Answers(limit: 1)
        try await answers.reserve()
        let waiter = Task { try await answers.reserve() }
        answers.fail()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        await #expect(throws: CancellationError.self) { try await answers.reserve() }
    }
}
