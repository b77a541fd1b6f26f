import SpoolCore
@testable import SpoolServer
import Testing

/// The bounded queue of one worker's commands, between the engine and the
/// stream's writer.
@Suite(.timeLimit(.minutes(1)))
struct OutboxTests {
    private static let first = WorkerCommand.drain(deadlineMs: 1, message: "first")

    @Test func whatWaitsIsTakenTogetherInOrder() async {
        let outbox = Outbox()
        outbox.send(Self.first)
        outbox.send(.drain(deadlineMs: 5, message: "one"))
        outbox.send(.drain(deadlineMs: 6, message: "two"))
        #expect(await outbox.next() == [Self.first, .drain(deadlineMs: 5, message: "one"), .drain(deadlineMs: 6, message: "two")])
    }

    @Test func aWaitingWriterIsWokenBySend() async {
        let outbox = Outbox()
        let writer = Task { await outbox.next() }
        outbox.send(Self.first)
        #expect(await writer.value == [Self.first])
    }

    @Test func aCloseIsTheLastCommandTaken() async {
        let outbox = Outbox()
        outbox.send(.close(.unavailable("bye")))
        outbox.send(Self.first)
        #expect(await outbox.next() == [.close(.unavailable("bye"))])
    }

    @Test func aWorkerThatDoesNotReadOverflowsTheOutboxAndTheWriterIsToldSo() async {
        let outbox = Outbox()
        for _ in 0...Outbox.limit { outbox.send(Self.first) }
        #expect(await outbox.next() == nil)
        outbox.send(Self.first)
        #expect(await outbox.next() == nil)
    }

    @Test func aCancelledWriterStopsWaiting() async {
        let outbox = Outbox()
        let writer = Task { await outbox.next() }
        writer.cancel()
        #expect(await writer.value == nil)
    }
}
