@testable import SpoolServer
import SpoolWire
import Testing

/// EnqueueStream's bookkeeping: places for jobs in flight, answers handed over as they come.
@Suite(.timeLimit(.minutes(1)))
struct EnqueueStreamAnswersTests {
    @Test func aReservationWaitsWhileTheLimitIsInFlightAndAnAnswerFreesAPlace() async throws {
        let answers = EnqueueStreamCall.Answers(limit: 2)
        try await answers.reserve(1)
        try await answers.reserve(1)
        let (reserved, signal) = AsyncStream.makeStream(of: Void.self)
        let waiter = Task {
            try await answers.reserve(1)
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
        try await answers.reserve(1)
        let waiter = Task { try await answers.reserve(1) }
        answers.fail()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        await #expect(throws: CancellationError.self) { try await answers.reserve(1) }
    }

    @Test func aReservationOfSeveralPlacesWaitsUntilAllAreFree() async throws {
        let answers = EnqueueStreamCall.Answers(limit: 4)
        try await answers.reserve(3)
        let waiter = Task { try await answers.reserve(3) }
        while !answers.isReservationWaiting { await Task.yield() }
        answers.add(EnqueueStreamResponse(correlationId: 1))
        #expect(answers.isReservationWaiting)  // 2 in flight: 3 more would be 5
        answers.add(EnqueueStreamResponse(correlationId: 2))
        #expect(!answers.isReservationWaiting)
        try await waiter.value
    }

    @Test func packedAnswersDecodeAsTheFirstWithTheOthersAsMore() throws {
        let answers = (1...3).map { EnqueueStreamResponse(correlationId: UInt64($0), errorCode: Int32($0), errorMessage: "e\($0)") }
        let packed = try EnqueueStreamResponse(serializedBytes: EnqueueStreamResponse.packing(answers.map { $0.serializedBytes() }))
        #expect(packed.correlationId == 1 && packed.errorMessage == "e1")
        #expect(packed.more == Array(answers.dropFirst()))
        let long = String(repeating: "x", count: 300)  // a length that takes a two-byte varint
        let framed = try EnqueueStreamResponse(serializedBytes: EnqueueStreamResponse.packing(
            [answers[0].serializedBytes(), EnqueueStreamResponse(correlationId: 9, errorMessage: long).serializedBytes()]))
        #expect(framed.more.map(\.errorMessage) == [long])
    }

    @Test func packedMessagesStayWithinTheirByteBound() throws {
        let big = String(repeating: "m", count: 300 * 1024)
        let encoded = (1...7).map { EnqueueStreamResponse(correlationId: UInt64($0), errorMessage: big).serializedBytes() }
        let messages = EnqueueStreamCall.Answers.packed(encoded)
        #expect(messages.count > 1)
        var ids: [UInt64] = []
        for message in messages {
            #expect(message.count <= EnqueueStreamCall.Answers.maxPackedBytes)
            let answer = try EnqueueStreamResponse(serializedBytes: message)
            ids += [answer.correlationId] + answer.more.map(\.correlationId)
        }
        #expect(ids == Array(1...7))
    }
}
