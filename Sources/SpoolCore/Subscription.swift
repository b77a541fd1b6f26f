import Synchronization

/// One progress stream's events, in order, as an async sequence (docs/design.md
/// §4). The engine pushes; the stream's task pulls.
///
/// A slow reader costs memory only within limits: a progress or position
/// event replaces the same job's previous one if that is still unsent and
/// nothing about the job came after it; state events are never dropped. A
/// reader that falls `limit` events behind is ended with
/// `SubscriptionError.tooSlow`, and can resume with `after_seq`; so is
/// the one furthest behind (in bytes) when every stream together holds more
/// than the engine's budget (`SubscriberBudget`). An ended stream's unsent
/// events are dropped at once: its resume point is the last event it read.
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
        /// The estimated bytes of the unsent events, counted in the budget too.
        var pendingBytes = 0
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
    private let budget: SubscriberBudget

    init(limit: Int, budget: SubscriberBudget = SubscriberBudget(limitBytes: .max)) {
        self.limit = limit
        self.budget = budget
    }

    /// The estimated bytes of the events pushed and not yet read.
    var pendingBytes: Int { state.withLock { $0.pendingBytes } }

    deinit {
        budget.release(state.withLock { $0.pendingBytes })
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
            let bytes = event.estimatedBytes
            if event.kind == .progress || event.kind == .position, let index = state.latest[id],
               let previous = state.buffer[index], previous.kind == event.kind {
                state.buffer[index] = event
                let change = bytes - previous.estimatedBytes
                state.pendingBytes += change
                budget.add(change)
                return nil
            }
            if state.pending >= limit {
                endTooSlow(&state)
                return nil
            }
            state.latest[id] = state.buffer.count
            state.buffer.append(event)
            state.pendingBytes += bytes
            budget.add(bytes)
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// Ends the stream as too slow, its unsent events dropped.
    private func endTooSlow(_ state: inout State) {
        state.end = .failed(SubscriptionError.tooSlow(resumeAfterSeq: state.lastSentSeq))
        state.buffer = []
        state.head = 0
        state.latest = [:]
        budget.add(-state.pendingBytes)
        state.pendingBytes = 0
    }

    /// Ends the stream as too slow now (the engine's budget is spent and it
    /// is furthest behind), dropping what it has not read.
    func endTooSlow() {
        let (waiter, resumeAfterSeq) = state.withLock { state -> (CheckedContinuation<JobEvent?, any Error>?, UInt64) in
            guard state.end == nil else { return (nil, 0) }
            endTooSlow(&state)
            defer { state.waiter = nil }
            return (state.waiter, state.lastSentSeq)
        }
        waiter?.resume(throwing: SubscriptionError.tooSlow(resumeAfterSeq: resumeAfterSeq))
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
                        let bytes = event.estimatedBytes
                        state.pendingBytes -= bytes
                        budget.add(-bytes)
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

/// The bytes that every progress stream together holds unsent (estimated:
/// `JobEvent.estimatedBytes`), shared by the engine's subscriptions.
final class SubscriberBudget: Sendable {
    let limitBytes: Int
    private let used = Atomic<Int>(0)

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    var usedBytes: Int { used.load(ordering: .relaxed) }
    var isSpent: Bool { usedBytes > limitBytes }

    func add(_ bytes: Int) {
        if bytes != 0 { used.add(bytes, ordering: .relaxed) }
    }

    func release(_ bytes: Int) { add(-bytes) }
}

extension JobEvent {
    /// About what this event costs while it waits in a stream's buffer:
    /// its structs, and the strings, labels and result it carries.
    var estimatedBytes: Int {
        let record = job.record
        var bytes = 400 + note.utf8.count + record.queue.utf8.count + record.type.utf8.count
        bytes += record.progress.step.utf8.count + record.progress.message.utf8.count + (record.result?.count ?? 0)
        bytes += (record.failure.map { $0.code.utf8.count + $0.message.utf8.count } ?? 0)
        bytes += (record.idempotencyKey?.utf8.count ?? 0) + (record.batchId?.utf8.count ?? 0)
        for key in record.lockKeys { bytes += 16 + key.utf8.count }
        for (key, value) in record.labels { bytes += 48 + key.utf8.count + value.utf8.count }
        return bytes
    }
}
