@testable import SpoolCore
@testable import SpoolServer
import Testing
import SpoolWire

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

/// One flush's commands as messages: assignments in a row become one
/// `assignments` message for a worker whose hello asked for it.
struct CommandMessagesTests {
    private static func assign(_ id: String) -> WorkerCommand {
        .assign(JobAssignment(lease: LeaseRef(jobID: id, attempt: 1, leaseID: "l-" + id), type: "t", queue: "q",
                              payload: [], maxAttempts: 1, priority: 0, deadlineMs: 0, leaseMs: 1_000, labels: [:],
                              batchID: ""))
    }

    private static func shapes(batching: Bool, _ commands: [WorkerCommand]) -> [String] {
        var messages = CommandMessages(batchingAssignments: batching)
        for command in commands { messages.append(command) }
        return messages.done().map { message in
            switch message.body {
            case .assign(let one): "assign \(one.lease.jobId)"
            case .assignments(let all): "assignments " + all.map(\.lease.jobId).joined(separator: ",")
            case .drain: "drain"
            default: "other"
            }
        }
    }

    @Test func assignmentsInARowGoOutAsOneMessageInOrder() {
        let commands = [Self.assign("a"), Self.assign("b"), .drain(deadlineMs: 1, message: ""), Self.assign("c"),
                        Self.assign("d"), Self.assign("e")]
        #expect(Self.shapes(batching: true, commands) == ["assignments a,b", "drain", "assignments c,d,e"])
        #expect(Self.shapes(batching: true, [Self.assign("a"), .drain(deadlineMs: 1, message: "")]) == ["assign a", "drain"])
    }

    @Test func aWorkerThatDidNotAskGetsOneMessageAnAssignment() {
        let commands = [Self.assign("a"), Self.assign("b"), .drain(deadlineMs: 1, message: "")]
        #expect(Self.shapes(batching: false, commands) == ["assign a", "assign b", "drain"])
    }
}
