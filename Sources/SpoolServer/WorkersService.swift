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

    /// How many elements a worker's message may hold, checked before it is
    /// unpacked (the numbers are the fields' in proto/spool/v1/worker.proto).
    static let messageLimits: RepeatedFieldLimits = {
        var hello = RepeatedFieldLimits()
        hello.limit(field: 2, "types", to: WorkerHello.maxTypes)
        hello.limit(field: 4, "labels", to: JobLimits.maxLabels)
        var outcomes = RepeatedFieldLimits()
        outcomes.limit(field: 1, "outcomes", to: WorkerHello.maxCapacity)
        var message = RepeatedFieldLimits()
        message.lookInto(field: 1, "hello", hello)
        message.lookInto(field: 6, "outcomes", outcomes)
        return message
    }()

    let engine: QueueEngine
    private let limits: Limits

    public init(engine: QueueEngine, limits: Limits = Limits()) {
        self.engine = engine
        self.limits = limits
    }

    public func register(in router: inout Router) {
        router.limitOpenCalls(of: Self.workPath, perConnection: limits.perConnection, total: limits.total)
        router.bidirectionalStreaming(Self.workPath, precheck: Self.messageLimits.precheck) {
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
        defer {
            // Whatever the worker said reaches the engine before its end does.
            if let inbox = connection.inbox { Task { await inbox.finish() } }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends (normally) when the worker half-closes: it is done.
                try await Self.read(requests, peer: context.peer, engine: engine, outbox: outbox, connection: connection)
            }
            group.addTask {
                // What the engine said meanwhile goes out together, in one flush.
                while let commands = await outbox.next() {
                    var messages = CommandMessages(batchingAssignments: connection.batches)
                    for command in commands {
                        if case .close(let error) = command {
                            try await writer.send(contentsOf: messages.done())
                            throw GRPCStatus(error)
                        }
                        messages.append(command)
                    }
                    try await writer.send(contentsOf: messages.done())
                }
                try Task.checkCancellation()
                throw GRPCStatus(.resourceExhausted, "this worker did not read its commands: more than "
                                 + "\(Outbox.limit) were waiting to be sent")
            }
            try await group.next()
            group.cancelAll()
        }
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
        connection.batches = hello.batches
        let number: Int64
        do {
            number = try await engine.connectWorker(WorkerHello(
                name: hello.name, types: hello.types, capacity: hello.capacity == 0 ? 1 : Int(hello.capacity),
                labels: hello.labels, peer: peer), send: outbox.send)
        } catch {
            throw GRPCStatus(error)
        }
        let inbox = Inbox(engine: engine, number: number)
        connection.inbox = inbox
        while let message = try await messages.next() {
            await inbox.add(try reports(message))
        }
    }

    /// What the engine is told of one message after the hello.
    private static func reports(_ message: WorkerMessage) throws(GRPCStatus) -> [WorkerReport] {
        switch message.body {
        case .outcome(let outcome):
            return [try report(outcome)]
        case .outcomes(let outcomes):
            guard !outcomes.isEmpty else { throw GRPCStatus(.invalidArgument, "outcomes holds no outcome") }
            var reports: [WorkerReport] = []
            reports.reserveCapacity(outcomes.count)
            for outcome in outcomes { reports.append(try report(outcome)) }
            return reports
        case .heartbeat:
            return [.heartbeat]
        case .progress(let lease, let progress):
            guard let lease, let progress else {
                throw GRPCStatus(.invalidArgument, "a progress message needs lease and progress")
            }
            let fraction = progress.fraction.isNaN ? 0 : min(1, max(0, progress.fraction))
            return [.progress(LeaseRef(lease), JobRecord.Progress(
                fraction: fraction, step: progress.step.truncated(toUTF8Bytes: maxStepBytes),
                message: progress.message.truncated(toUTF8Bytes: maxTextBytes)))]
        case .draining:
            return [.draining]
        case .hello:
            throw GRPCStatus(.invalidArgument, "a stream takes one hello, first")
        case .none:
            throw GRPCStatus(.invalidArgument,
                             "an empty worker message (set one of heartbeat, progress, outcome, outcomes, draining)")
        }
    }

    private static func report(_ leased: WorkerMessage.LeasedOutcome) throws(GRPCStatus) -> WorkerReport {
        guard let lease = leased.lease else { throw GRPCStatus(.invalidArgument, "an outcome needs its lease") }
        switch leased.outcome {
        case .none:
            throw GRPCStatus(.invalidArgument, "an outcome needs one of result, failure and released")
        case .result(let bytes):
            return .finished(LeaseRef(lease), .succeeded(result: bytes))
        case .failure(let text, let permanent, let retryAfterMs):
            return .finished(LeaseRef(lease), .failed(
                message: text.truncated(toUTF8Bytes: maxFailureBytes), permanent: permanent,
                retryAfterMs: retryAfterMs > 0 ? retryAfterMs : nil))
        case .released(let reason):
            return .finished(LeaseRef(lease), .released(reason: reason.truncated(toUTF8Bytes: maxTextBytes)))
        }
    }
}

/// One flush's messages to a worker. For a worker that reads `assignments`,
/// assignments in a row go out as one message.
struct CommandMessages {
    let batchingAssignments: Bool
    private var messages: [WorkerCommandMessage] = []
    private var assignments: [WorkerCommandMessage.Assignment] = []

    init(batchingAssignments: Bool) {
        self.batchingAssignments = batchingAssignments
    }

    mutating func append(_ command: WorkerCommand) {
        let message = WorkerCommandMessage(command)
        if batchingAssignments, case .assign(let assignment) = message.body {
            assignments.append(assignment)
            return
        }
        flushAssignments()
        messages.append(message)
    }

    mutating func done() -> [WorkerCommandMessage] {
        flushAssignments()
        return messages
    }

    private mutating func flushAssignments() {
        switch assignments.count {
        case 0: return
        case 1: messages.append(WorkerCommandMessage(.assign(assignments[0])))
        default: messages.append(WorkerCommandMessage(.assignments(assignments)))
        }
        assignments = []
    }
}

/// What a stream's hello settled: whether the worker reads `assignments`,
/// and its inbox.
private final class Connection: Sendable {
    private let stored = Mutex<(batches: Bool, inbox: Inbox?)>((false, nil))

    var batches: Bool {
        get { stored.withLock { $0.batches } }
        set { stored.withLock { $0.batches = newValue } }
    }

    var inbox: Inbox? {
        get { stored.withLock { $0.inbox } }
        set { stored.withLock { $0.inbox = newValue } }
    }
}

/// What one worker said, on its way to the engine, in order. The reader
/// adds without waiting for the engine; whatever piles up while the engine
/// is busy is handed over in one call. Past `limit` waiting reports the
/// reader waits, so a worker sending faster than the engine takes cannot
/// make the server buffer without bound.
final class Inbox: Sendable {
    static let limit = 1024

    private struct State {
        var reports: [WorkerReport] = []
        var delivering = false
        var reader: CheckedContinuation<Void, Never>?
        var finished: [CheckedContinuation<Void, Never>] = []
    }

    private let engine: QueueEngine
    private let number: Int64
    private let state = Mutex(State())

    init(engine: QueueEngine, number: Int64) {
        self.engine = engine
        self.number = number
    }

    func add(_ reports: [WorkerReport]) async {
        guard append(reports) else { return }
        await withCheckedContinuation { reader in
            let room = state.withLock { state in
                if state.reports.count < Self.limit { return true }
                state.reader = reader
                return false
            }
            if room { reader.resume() }
        }
    }

    /// The stream ended: tells the engine after everything before, and
    /// returns once it is told.
    func finish() async {
        await withCheckedContinuation { done in _ = append([.disconnected], whenDelivered: done) }
    }

    /// Adds reports, and starts delivering if no delivery runs. True when
    /// the inbox is full.
    private func append(_ reports: [WorkerReport], whenDelivered done: CheckedContinuation<Void, Never>? = nil) -> Bool {
        let (start, full) = state.withLock { state in
            state.reports.append(contentsOf: reports)
            if let done { state.finished.append(done) }
            defer { state.delivering = true }
            return (!state.delivering, state.reports.count >= Self.limit)
        }
        if start { Task { await deliver() } }
        return full
    }

    private func deliver() async {
        while true {
            let (reports, reader, finished) = state.withLock { state in
                defer {
                    state.reports = []
                    state.reader = nil
                }
                if state.reports.isEmpty {
                    state.delivering = false
                    defer { state.finished = [] }
                    return (state.reports, state.reader, state.finished)
                }
                return (state.reports, state.reader, [])
            }
            reader?.resume()
            guard !reports.isEmpty else {
                finished.forEach { $0.resume() }
                return
            }
            await engine.workerReports(number, reports)
        }
    }
}

/// The engine's commands for one worker, waiting to be written. The engine
/// sends without waiting; a worker that stops reading fills the outbox, and
/// its stream ends RESOURCE_EXHAUSTED rather than the server buffering
/// without bound.
final class Outbox: Sendable {
    /// More than a worker at full capacity can be owed: an assignment and a
    /// cancel per job, a refusal per outcome in flight, a drain and a close.
    static let limit = 4 * WorkerHello.maxCapacity + 64

    private struct State {
        var commands: [WorkerCommand] = []
        var writer: CheckedContinuation<[WorkerCommand]?, Never>?
        /// Closed, or overflowed: nothing more is taken.
        var ended = false
        var overflowed = false
    }

    private let state = Mutex(State())

    func send(_ command: WorkerCommand) {
        let (writer, commands) = state.withLock { state -> (CheckedContinuation<[WorkerCommand]?, Never>?, [WorkerCommand]?) in
            guard !state.ended else { return (nil, nil) }
            if state.commands.count >= Self.limit {
                state.ended = true
                state.overflowed = true
                state.commands = []
            } else {
                state.commands.append(command)
                if case .close = command { state.ended = true }
            }
            guard let writer = state.writer else { return (nil, nil) }
            state.writer = nil
            defer { state.commands = [] }
            return (writer, state.overflowed ? nil : state.commands)
        }
        writer?.resume(returning: commands)
    }

    /// Every command waiting, once there is one; nil once the outbox has
    /// overflowed, or the task is cancelled.
    func next() async -> [WorkerCommand]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { writer in
                let ready = state.withLock { state -> [WorkerCommand]?? in
                    if state.overflowed || Task.isCancelled { return .some(nil) }
                    if !state.commands.isEmpty {
                        defer { state.commands = [] }
                        return .some(state.commands)
                    }
                    state.writer = writer
                    return .none
                }
                if let ready { writer.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.writer = nil }
                return state.writer
            }?.resume(returning: nil)
        }
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
            // Every server that knows the field takes `outcomes`.
            self.init(.welcome(workerId: session.workerID, heartbeatIntervalMs: session.heartbeatIntervalMs, batches: true))
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
            assignment.dependencySummary = job.dependencySummary
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
        case .refused(let lease, let refusal, let message):
            let wireRefusal: Refusal = switch refusal {
            case .leaseLost: .leaseLost
            case .unknownLease: .unknownLease
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
