import Synchronization

/// One progress stream's events, in order, as an async sequence (DESIGN.md
/// §4). The engine pushes; the stream's task pulls.
///
/// A slow reader costs memory only within limits: a progress or position
/// event replaces the same job's previous one if that is still unsent and
/// nothing about the job came after it; state events are never dropped. A
/// reader that falls `limit` events behind is ended with
/// `SubscriptionError.tooSlow`, and can resume with `after_seq`.
public final class Subscription: AsyncSequence, Sendable {
    public typealias Element = JobEvent

    private struct State {
        var buffer: [JobEvent?] = []
        var head = 0
        /// Per job id: the buffer index of its latest unsent event.
        var latest: [JobID: Int] = [:]
        var waiter: CheckedContinuation<JobEvent?, any Error>?
        var end: EndReason?
        var lastSentSeq: UInt64 = 0
        var pending: Int { buffer.count - head }

        mutating func compact() {
            buffer.removeFirst(head)
            latest = latest.compactMapValues { $0 >= head ? $0 - head : nil }
            head = 0
        }
    }

    enum EndReason {
        case finished
        case failed(any Error)
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func push(_ event: JobEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<JobEvent?, any Error>? in
            guard state.end == nil else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                if event.seq > 0 { state.lastSentSeq = event.seq }
                return waiter
            }
            let id = event.job.record.jobID
            if event.kind == .progress || event.kind == .position, let index = state.latest[id],
               let previous = state.buffer[index], previous.kind == event.kind {
                state.buffer[index] = event
                return nil
            }
            if state.pending >= limit {
                state.end = .failed(SubscriptionError.tooSlow(resumeAfterSeq: state.lastSentSeq))
                return nil
            }
            state.latest[id] = state.buffer.count
            state.buffer.append(event)
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// Ends the stream once the events pushed so far are read.
    func finish(_ reason: EndReason = .finished) {
        let waiter = state.withLock { state -> CheckedContinuation<JobEvent?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = reason
            defer { state.waiter = nil }
            return state.pending == 0 ? state.waiter : nil
        }
        switch reason {
        case .finished: waiter?.resume(returning: nil)
        case .failed(let error): waiter?.resume(throwing: error)
        }
    }

    private func next() async throws -> JobEvent? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JobEvent?, any Error>) in
                let ready = state.withLock { state -> Result<JobEvent?, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    while state.head < state.buffer.count {
                        let event = state.buffer[state.head]
                        state.buffer[state.head] = nil
                        state.head += 1
                        guard let event else { continue }
                        if state.latest[event.job.record.jobID] == state.head - 1 { state.latest[event.job.record.jobID] = nil }
                        if state.head > 1024 && state.head * 2 > state.buffer.count { state.compact() }
                        if event.seq > 0 { state.lastSentSeq = event.seq }
                        return .success(event)
                    }
                    switch state.end {
                    case .finished: return .success(nil)
                    case .failed(let error): return .failure(error)
                    case nil:
                        state.waiter = continuation
                        return nil
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<JobEvent?, any Error>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: Subscription
        public mutating func next() async throws -> JobEvent? { try await subscription.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(subscription: self) }
}

public enum SubscriptionError: Error, Sendable, Equatable {
    /// The reader fell too far behind; it can resume after this seq.
    case tooSlow(resumeAfterSeq: UInt64)
}
