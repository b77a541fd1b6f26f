import GRPCH2
import SpoolCore
import SpoolWire
import Synchronization

/// spool.v1.Workers: one `Work` stream per remote worker process. The
/// stream's messages become the engine's `worker…` calls; the engine's
/// commands go out in order through a bounded outbox. Nothing here decides
/// which job runs where.
public struct WorkersService: Sendable {
    public static let name = "spool.v1.Workers"
    static let workPath = "/spool.v1.Workers/Work"

    /// Worker streams one connection, and the whole server, may have open.
    public struct Limits: Sendable {
        public var perConnection = 64
        public var total = 10_000

        public init() {}
    }

    /// What a worker's progress text and failure message are cut to.
    static let maxStepBytes = 256
    static let maxTextBytes = 4_096
    static let maxFailureBytes = 64 * 1024

    let engine: QueueEngine
    private let limits: Limits

    public init(engine: QueueEngine, limits: Limits = Limits()) {
        self.engine = engine
        self.limits = limits
    }

    public func register(in router: inout Router) {
        router.limitOpenCalls(of: Self.workPath, perConnection: limits.perConnection, total: limits.total)
        router.bidirectionalStreaming(Self.workPath) {
            (requests: RequestMessages<WorkerMessage>, context: RPCContext, writer: MessageWriter<WorkerCommandMessage>) in
            try await serve(requests, context: context, writer: writer)
        }
    }

    private func serve(
        _ requests: RequestMessages<WorkerMessage>, context: RPCContext, writer: MessageWriter<WorkerCommandMessage>
    ) async throws {
        let outbox = Outbox()
        let connection = Connection()
        let engine = self.engine
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Ends (normally) when the worker half-closes: it is done.
                    try await Self.read(requests, peer: context.peer, engine: engine, outbox: outbox, connection: connection)
                }
                group.addTask {
                    for await command in outbox.commands {
                        outbox.taken()
                        if case .close(let error) = command { throw GRPCStatus(error) }
                        try await writer.send(WorkerCommandMessage(command))
                    }
                    // Only a full outbox finishes the stream.
                    throw GRPCStatus(.resourceExhausted, "this worker did not read its commands: more than "
                                     + "\(Outbox.limit) were waiting to be sent")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            if let number = connection.number { await engine.disconnectWorker(number) }
            throw error
        }
        if let number = connection.number { await engine.disconnectWorker(number) }
    }

    private static func read(
        _ requests: RequestMessages<WorkerMessage>, peer: String, engine: QueueEngine, outbox: Outbox,
        connection: Connection
    ) async throws {
        var messages = requests.makeAsyncIterator()
        guard let first = try await messages.next() else { return }
        guard case .hello(let hello) = first.body else {
            throw GRPCStatus(.invalidArgument, "a worker's first message must be a hello (name, types, capacity)")
        }
        let number: Int64
        do {
            number = try await engine.connectWorker(WorkerHello(
                name: hello.name, types: hello.types, capacity: hello.capacity == 0 ? 1 : Int(hello.capacity),
                labels: hello.labels, peer: peer), send: outbox.send)
        } catch {
            throw GRPCStatus(error)
        }
        connection.number = number
        while let message = try await messages.next() {
            switch message.body {
            case .heartbeat:
                await engine.workerHeartbeat(number)
            case .progress(let lease, let progress):
                guard let lease, let progress else {
                    throw GRPCStatus(.invalidArgument, "a progress message needs lease and progress")
                }
                let fraction = progress.fraction.isNaN ? 0 : min(1, max(0, progress.fraction))
                await engine.workerProgress(number, LeaseRef(lease), JobRecord.Progress(
                    fraction: fraction, step: progress.step.truncated(toUTF8Bytes: maxStepBytes),
                    message: progress.message.truncated(toUTF8Bytes: maxTextBytes)))
            case .outcome(let lease, let outcome):
                guard let lease else { throw GRPCStatus(.invalidArgument, "an outcome needs its lease") }
                let engineOutcome: WorkerOutcome
                switch outcome {
                case .none:
                    throw GRPCStatus(.invalidArgument, "an outcome needs one of result, failure and released")
                case .result(let bytes):
                    engineOutcome = .succeeded(result: bytes)
                case .failure(let text, let permanent, let retryAfterMs):
                    engineOutcome = .failed(message: text.truncated(toUTF8Bytes: maxFailureBytes), permanent: permanent,
                                            retryAfterMs: retryAfterMs > 0 ? retryAfterMs : nil)
                case .released(let reason):
                    engineOutcome = .released(reason: reason.truncated(toUTF8Bytes: maxTextBytes))
                }
                await engine.workerFinished(number, LeaseRef(lease), engineOutcome)
            case .draining:
                await engine.workerDraining(number)
            case .hello:
                throw GRPCStatus(.invalidArgument, "a stream takes one hello, first")
            case .none:
                throw GRPCStatus(.invalidArgument, "an empty worker message (set one of heartbeat, progress, outcome, draining)")
            }
        }
    }
}

/// The engine's number for a stream's worker, once its hello is taken.
private final class Connection: Sendable {
    private let stored = Atomic<Int64>(0)

    var number: Int64? {
        get { stored.load(ordering: .acquiring).nonZero }
        set { stored.store(newValue ?? 0, ordering: .releasing) }
    }
}

private extension Int64 {
    var nonZero: Int64? { self == 0 ? nil : self }
}

/// The engine's commands for one worker, waiting to be written. The engine
/// sends without waiting; a worker that stops reading fills the outbox, and
/// its stream ends RESOURCE_EXHAUSTED rather than the server buffering
/// without bound.
final class Outbox: Sendable {
    /// More than a worker at full capacity can be owed: an assignment and a
    /// cancel per job, an answer per outcome in flight, a drain and a close.
    static let limit = 4 * WorkerHello.maxCapacity + 64

    let commands: AsyncStream<WorkerCommand>
    private let continuation: AsyncStream<WorkerCommand>.Continuation
    private let waiting = Atomic<Int>(0)

    init() {
        (commands, continuation) = AsyncStream.makeStream()
    }

    func send(_ command: WorkerCommand) {
        let (_, count) = waiting.add(1, ordering: .relaxed)
        guard count <= Self.limit else {
            continuation.finish()
            return
        }
        continuation.yield(command)
        if case .close = command { continuation.finish() }
    }

    func taken() {
        waiting.subtract(1, ordering: .relaxed)
    }
}

extension LeaseRef {
    init(_ lease: WireLease) {
        self.init(jobID: lease.jobId, attempt: lease.attempt, leaseID: lease.leaseId)
    }
}

extension WireLease {
    init(_ lease: LeaseRef) {
        self.init(jobId: lease.jobID, attempt: lease.attempt, leaseId: lease.leaseID)
    }
}

extension WorkerCommandMessage {
    init(_ command: WorkerCommand) {
        switch command {
        case .welcome(let session):
            self.init(.welcome(workerId: session.workerID, heartbeatIntervalMs: session.heartbeatIntervalMs))
        case .assign(let job):
            var assignment = Assignment()
            assignment.lease = WireLease(job.lease)
            assignment.type = job.type
            assignment.queue = job.queue
            assignment.payload = job.payload
            assignment.maxAttempts = job.maxAttempts
            assignment.priority = job.priority
            assignment.deadlineMs = job.deadlineMs
            assignment.leaseMs = job.leaseMs
            assignment.labels = job.labels
            assignment.batchId = job.batchID
            self.init(.assign(assignment))
        case .cancel(let lease, let cause, let message):
            let wireCause: CancelCause = switch cause {
            case .request: .request
            case .timeout: .timeout
            case .shutdown: .shutdown
            case .leaseLost: .leaseLost
            }
            self.init(.cancel(WireLease(lease), wireCause, message: message))
        case .drain(let deadlineMs, let message):
            self.init(Body.drain(deadlineMs: deadlineMs, message: message))
        case .answer(let lease, let refusal, let message):
            let wireRefusal: Refusal = switch refusal {
            case nil: .none
            case .leaseLost?: .leaseLost
            case .unknownLease?: .unknownLease
            }
            self.init(.ack(WireLease(lease), wireRefusal, message: message))
        case .close:
            self.init(.none)
        }
    }
}

extension String {
    /// At most `limit` bytes of UTF-8, cut at a character boundary.
    func truncated(toUTF8Bytes limit: Int) -> String {
        guard utf8.count > limit else { return self }
        let bytes = Array(utf8.prefix(limit + 1))
        var end = limit
        // Not in the middle of a character: back off continuation bytes (10xxxxxx).
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
