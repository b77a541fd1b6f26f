import GRPCH2
import SpoolCore
import SpoolWire
import Synchronization

/// spool.v1.JobQueue/EnqueueStream (docs/api.md: EnqueueStream): one job per
/// request message, each answered once committed, by the correlation id
/// its request chose, in the order the commits end. The jobs join the
/// engine's group commits as unary Enqueues do. At most `maxInFlight` jobs
/// of a stream wait for their answer: past that the call stops reading,
/// and HTTP/2's window holds the client back. A bad job is answered with
/// its error; a message that does not decode ends the call.
struct EnqueueStreamCall {
    static let maxInFlight = 1024

    let engine: QueueEngine
    let limits: RepeatedFieldLimits

    func run(_ requests: RequestStream, _ writer: ResponseWriter) async throws {
        let answers = Answers(limit: Self.maxInFlight)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await answers.send(through: writer) }
            do {
                for try await bytes in requests {
                    try await answers.reserve()
                    let request: EnqueueStreamRequest = try Router.decode(
                        bytes, path: "/spool.v1.JobQueue/EnqueueStream", precheck: limits.precheck)
                    let id = request.correlationId
                    guard let spec = request.job else {
                        answers.add(EnqueueStreamResponse(correlationId: id, errorCode: Int32(GRPCStatus.Code.invalidArgument.rawValue),
                                                          errorMessage: "job is required"))
                        continue
                    }
                    engine.enqueue([JobRequest(spec)]) { result in
                        switch result {
                        case .success(let accepted):
                            let item = accepted.items[0]
                            answers.add(EnqueueStreamResponse(correlationId: id, job: Job(item.job), deduplicated: item.deduplicated))
                        case .failure(let error):
                            let status = GRPCStatus(error)
                            answers.add(EnqueueStreamResponse(correlationId: id, errorCode: Int32(status.code.rawValue),
                                                              errorMessage: status.message))
                        }
                    }
                }
            } catch {
                answers.fail()
                throw error
            }
            answers.finish()
            try await group.waitForAll()
        }
    }

    /// The answers not yet sent, and how many jobs still wait for theirs.
    final class Answers: Sendable {
        private struct State {
            var ready: [[UInt8]] = []
            var inFlight = 0
            var finished = false
            var failed = false
            var reserving: CheckedContinuation<Void, any Error>?
            var sending: CheckedContinuation<Void, Never>?
        }

        private let limit: Int
        private let state = Mutex(State())

        init(limit: Int) { self.limit = limit }

        /// Takes a place for one more job; waits while `limit` wait for their answers.
        func reserve() async throws {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Bool? = state.withLock { state in
                    if state.failed { return false }
                    guard state.inFlight >= limit else {
                        state.inFlight += 1
                        return true
                    }
                    state.reserving = continuation
                    return nil
                }
                switch resume {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        }

        /// A job's answer (from any thread); frees its place.
        func add(_ answer: EnqueueStreamResponse) {
            let bytes = answer.grpcPayload()
            let (reserving, sending) = state.withLock { state in
                state.ready.append(bytes)
                state.inFlight -= 1
                var reserving = state.reserving
                if reserving != nil, state.inFlight < limit {
                    state.inFlight += 1
                    state.reserving = nil
                } else {
                    reserving = nil
                }
                let sending = state.sending
                state.sending = nil
                return (reserving, sending)
            }
            reserving?.resume()
            sending?.resume()
        }

        /// No more requests: the sender ends once every job is answered.
        func finish() {
            let sending = state.withLock { state in
                state.finished = true
                defer { state.sending = nil }
                return state.sending
            }
            sending?.resume()
        }

        /// The call ends early: a waiting reservation gives up.
        func fail() {
            let (reserving, sending) = state.withLock { state in
                state.failed = true
                state.finished = true
                defer { state.reserving = nil; state.sending = nil }
                return (state.reserving, state.sending)
            }
            reserving?.resume(throwing: CancellationError())
            sending?.resume()
        }

        /// Sends answers as they come, every ready one in one write, until
        /// the requests ended and every job is answered.
        func send(through writer: ResponseWriter) async throws {
            while true {
                let batch = state.withLock { state in
                    defer { state.ready = [] }
                    return state.ready
                }
                if batch.isEmpty {
                    if isDone { return }
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let now = state.withLock { state in
                            if !state.ready.isEmpty || (state.finished && (state.inFlight == 0 || state.failed)) { return true }
                            state.sending = continuation
                            return false
                        }
                        if now { continuation.resume() }
                    }
                    continue
                }
                do {
                    try await writer.send(contentsOf: batch)
                } catch {
                    fail()
                    throw error
                }
            }
        }

        /// Whether a reservation waits for a place (tests).
        var isReservationWaiting: Bool { state.withLock { $0.reserving != nil } }

        /// The requests ended, and every job is answered and sent (or the call failed).
        private var isDone: Bool {
            state.withLock { $0.finished && $0.ready.isEmpty && ($0.inFlight == 0 || $0.failed) }
        }
    }
}
