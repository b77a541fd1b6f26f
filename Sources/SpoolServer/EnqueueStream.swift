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
    /// Open calls, and their jobs read and not yet answered, server-wide
    /// (the metrics' gauges).
    static let openCalls = Atomic<Int>(0)
    static let jobsInFlight = Atomic<Int>(0)

    let engine: QueueEngine
    let limits: RepeatedFieldLimits

    func run(_ requests: RequestStream, _ writer: ResponseWriter) async throws {
        Self.openCalls.add(1, ordering: .relaxed)
        defer { Self.openCalls.subtract(1, ordering: .relaxed) }
        let answers = Answers(limit: Self.maxInFlight)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await answers.send(through: writer) }
            do {
                for try await bytes in requests {
                    let request: EnqueueStreamRequest = try Router.decode(
                        bytes, path: "/spool.v1.JobQueue/EnqueueStream", precheck: limits.precheck)
                    if !request.more.isEmpty { answers.packAnswers() }
                    try await answers.reserve(1 + request.more.count)
                    enqueue(request, answers)
                    for packed in request.more { enqueue(packed, answers) }
                }
            } catch {
                answers.fail()
                throw error
            }
            answers.finish()
            try await group.waitForAll()
        }
    }

    private func enqueue(_ request: EnqueueStreamRequest, _ answers: Answers) {
        let id = request.correlationId
        guard let spec = request.job else {
            answers.add(EnqueueStreamResponse(correlationId: id, errorCode: Int32(GRPCStatus.Code.invalidArgument.rawValue),
                                              errorMessage: "job is required", packs: true))
            return
        }
        engine.enqueue([JobRequest(spec)]) { result in
            switch result {
            case .success(let accepted):
                let item = accepted.items[0]
                answers.add(EnqueueStreamResponse(correlationId: id, job: Job(item.job), deduplicated: item.deduplicated,
                                                  packs: true))
            case .failure(let error):
                let status = GRPCStatus(error)
                answers.add(EnqueueStreamResponse(correlationId: id, errorCode: Int32(status.code.rawValue),
                                                  errorMessage: status.message, packs: true))
            }
        }
    }

    /// The answers not yet sent, and how many jobs still wait for theirs.
    final class Answers: Sendable {
        /// What one packed message of answers holds at most: well under
        /// any client's 4 MiB receive limit (an answer of a deduplicated
        /// job carries its result).
        static let maxPackedBytes = 1 << 20

        private struct State {
            var ready: [[UInt8]] = []
            var packing = false
            var inFlight = 0
            var finished = false
            var failed = false
            var reserving: CheckedContinuation<Void, any Error>?
            var reservingCount = 0
            var sending: CheckedContinuation<Void, Never>?
        }

        private let limit: Int
        private let state = Mutex(State())

        init(limit: Int) { self.limit = limit }

        /// The client packs its jobs: its answers are packed too, from now on.
        func packAnswers() {
            state.withLock { $0.packing = true }
        }

        /// Takes places for `count` more jobs (at most `limit`); waits while
        /// too many wait for their answers.
        func reserve(_ count: Int) async throws {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Bool? = state.withLock { state in
                    if state.failed { return false }
                    guard state.inFlight + count > limit else {
                        state.inFlight += count
                        EnqueueStreamCall.jobsInFlight.add(count, ordering: .relaxed)
                        return true
                    }
                    state.reserving = continuation
                    state.reservingCount = count
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
                EnqueueStreamCall.jobsInFlight.subtract(1, ordering: .relaxed)
                var reserving = state.reserving
                if reserving != nil, state.inFlight + state.reservingCount <= limit {
                    state.inFlight += state.reservingCount
                    EnqueueStreamCall.jobsInFlight.add(state.reservingCount, ordering: .relaxed)
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
                let (batch, packing) = state.withLock { state in
                    defer { state.ready = [] }
                    return (state.ready, state.packing)
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
                    try await writer.send(contentsOf: packing ? Self.packed(batch) : batch)
                } catch {
                    fail()
                    throw error
                }
            }
        }

        /// Answers as packed messages, each up to `maxPackedBytes` (or one answer).
        static func packed(_ answers: [[UInt8]]) -> [[UInt8]] {
            var messages: [[UInt8]] = []
            var start = answers.startIndex, bytes = 0
            for index in answers.indices {
                if index > start, bytes + answers[index].count > maxPackedBytes {
                    messages.append(EnqueueStreamResponse.packing(Array(answers[start..<index])))
                    start = index
                    bytes = 0
                }
                bytes += answers[index].count + 6
            }
            if start < answers.endIndex { messages.append(EnqueueStreamResponse.packing(Array(answers[start...]))) }
            return messages
        }

        /// Whether a reservation waits for a place (tests).
        var isReservationWaiting: Bool { state.withLock { $0.reserving != nil } }

        /// The requests ended, and every job is answered and sent (or the call failed).
        private var isDone: Bool {
            state.withLock { $0.finished && $0.ready.isEmpty && ($0.inFlight == 0 || $0.failed) }
        }
    }
}
