import SpoolCore
import SpoolHandlers
import Synchronization
import Testing

/// A handler whose runs wait until the test opens them, and which reports
/// each start: tests decide when jobs finish, with no sleeps.
final class GateHandler: JobHandler {
    private struct State {
        var gates: [String: CheckedContinuation<Void, any Error>] = [:]
        var opened: Set<String> = []
        var failures: [String: JobFailure] = [:]
    }

    private let state = Mutex(State())
    let starts: AsyncStream<String>
    private let startsContinuation: AsyncStream<String>.Continuation

    init() {
        (starts, startsContinuation) = AsyncStream.makeStream()
    }

    /// Lets the run of `id` finish: with success, or with `failure`.
    func open(_ id: String, failing failure: JobFailure? = nil) {
        let gate = state.withLock { state in
            state.opened.insert(id)
            if let failure { state.failures[id] = failure }
            return state.gates.removeValue(forKey: id)
        }
        gate?.resume()
    }

    func run(_ job: JobContext) async throws -> [UInt8] {
        startsContinuation.yield(job.id)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = state.withLock { state -> Bool in
                    if state.opened.remove(job.id) != nil || Task.isCancelled { return true }
                    state.gates[job.id] = continuation
                    return false
                }
                if ready { Task.isCancelled ? continuation.resume(throwing: CancellationError()) : continuation.resume() }
            }
        } onCancel: {
            let gate = state.withLock { $0.gates.removeValue(forKey: job.id) }
            gate?.resume(throwing: CancellationError())
        }
        if let failure = state.withLock({ $0.failures.removeValue(forKey: job.id) }) { throw failure }
        return Array("done \(job.id) attempt \(job.attempt)".utf8)
    }
}

/// An engine on a manual clock and an in-memory store, with a gate handler
/// ("gate") and the built-in ones.
struct EngineHarness {
    let clock = ManualClock()
    let store: InMemoryJobStore
    let gate = GateHandler()
    let engine: QueueEngine

    init(_ configure: (inout EngineConfiguration) -> Void = { _ in }, store: InMemoryJobStore = InMemoryJobStore()) {
        var configuration = EngineConfiguration()
        configure(&configuration)
        self.store = store
        var handlers = BuiltinHandlers.all(clock: clock)
        handlers["gate"] = gate
        engine = QueueEngine(configuration: configuration, store: store, clock: clock, handlers: handlers, seed: 42)
    }

    func start() async throws { try await engine.start() }

    /// Enqueues one job and answers its id.
    @discardableResult
    func enqueue(_ type: String = "gate", _ configure: (inout JobRequest) -> Void = { _ in }) async throws -> String {
        var request = JobRequest(type: type)
        configure(&request)
        return try await engine.enqueue([request]).items[0].job.record.id
    }

    /// Waits for the next job the gate handler starts.
    func nextStart() async -> String {
        var iterator = gate.starts.makeAsyncIterator()
        return await iterator.next()!
    }

    /// Waits until job `id` has an event in `state` (and matching
    /// `condition`); answers that event.
    @discardableResult
    func until(_ id: String, is state: JobState, where condition: (JobRecord) -> Bool = { _ in true }) async throws -> JobEvent {
        let subscription = try await engine.subscribe(.jobs([id]))
        defer { Task { [engine] in await engine.unsubscribe(subscription) } }
        for try await event in subscription where event.job.record.state == state && condition(event.job.record) {
            return event
        }
        Issue.record("job \(id) ended its stream without reaching \(state)")
        throw CancellationError()
    }

    func view(_ id: String) async throws -> JobView { try await engine.status(jobIDs: [id]).jobs[0] }
}

