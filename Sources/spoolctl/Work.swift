import ArgumentParser
import Foundation
import GRPCH2
import NIOPosix
import SpoolCore
import SpoolHandlers
import SpoolWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `spoolctl work TYPE… -- COMMAND…`: a remote worker that runs each job it
/// is given with COMMAND, speaking the exec protocol (docs/exec.md), so an
/// exec worker moves off the spoold host unchanged.
struct Work: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take jobs of TYPE… from the server and run each with COMMAND on this machine (the exec protocol).",
        discussion: "The types must be configured remote on the server (types: NAME: {remote: {}}). Each job runs "
            + "COMMAND with the payload on standard input and SPOOL_JOB_ID, SPOOL_JOB_TYPE, SPOOL_ATTEMPT, SPOOL_BATCH_ID "
            + "SPOOL_DEPENDENCY_SUMMARY, SPOOL_SERVER and (with --enqueue-token) SPOOL_TOKEN in its "
            + "environment; its JSON lines report progress, result and error, as for exec types in spoold. "
            + "Reconnects when the server restarts. On SIGTERM or SIGINT it takes no new jobs, lets running ones finish "
            + "for --drain-timeout seconds, then stops the rest (they are retried) and exits 0.")

    @OptionGroup var options: ServerOptions

    @Option(help: "This worker's name in the server's status (default: the host name).")
    var name = ProcessInfo.processInfo.hostName

    @Option(help: "Jobs run at once. Default 1.")
    var concurrency = 1

    @Option(help: "Seconds running jobs get to finish after SIGTERM before they are stopped. Default 25.")
    var drainTimeout = 25.0

    @Option(help: "Seconds between SIGTERM and SIGKILL when a job's command is stopped. Default 5.")
    var terminationGrace = 5.0

    @Option(name: .customLong("enqueue-token"), help: ArgumentHelp("A client token for the jobs' commands, to enqueue more work (a fan-out): given to each "
                             + "as SPOOL_TOKEN beside SPOOL_SERVER, never printed. Default: $SPOOL_ENQUEUE_TOKEN.",
                             valueName: "TOKEN"))
    var enqueueTokenFlag: String?

    var enqueueToken: String? { enqueueTokenFlag ?? ProcessInfo.processInfo.environment["SPOOL_ENQUEUE_TOKEN"] }

    @Flag(help: ArgumentHelp("Start COMMAND once per concurrent job and feed it one job after another as JSON lines "
                             + "on its standard input (docs/exec.md), rather than once per job."))
    var persistent = false

    @Argument(help: ArgumentHelp("The job types to take, then -- and the command run for each job, "
                                 + "e.g. render -- python3 render.py.", valueName: "TYPE… -- COMMAND…"))
    var words: [String] = []

    /// The words after the first `--`, which the parser appends to `words`
    /// (two arrays of positional arguments cannot be told apart by it).
    var command: [String] {
        guard let terminator = CommandLine.arguments.firstIndex(of: "--") else { return [] }
        return Array(CommandLine.arguments[(terminator + 1)...])
    }

    var types: [String] { Array(words.dropLast(min(words.count, command.count))) }

    func validate() throws {
        guard !types.isEmpty else { throw ValidationError("name at least one job type") }
        guard !command.isEmpty, !command[0].isEmpty else { throw ValidationError("give the command after --, e.g. -- python3 render.py") }
        guard (1...WorkerHello.maxCapacity).contains(concurrency) else {
            throw ValidationError("--concurrency must be from 1 to \(WorkerHello.maxCapacity)")
        }
        guard drainTimeout >= 0, drainTimeout <= 86_400, terminationGrace >= 0, terminationGrace <= 3_600 else {
            throw ValidationError("--drain-timeout is 0 to 86400 seconds, --termination-grace 0 to 3600")
        }
        _ = try options.hostAndPort()
    }

    /// Where the jobs' commands reach this worker's server: SPOOL_SERVER and SPOOL_TOKEN.
    private var fanOutEndpoint: SpoolEndpoint {
        let endpoint = SpoolEndpoint()
        endpoint.set(server: options.server, token: enqueueToken.flatMap { $0.isEmpty ? nil : $0 })
        return endpoint
    }

    func run() async throws {
        let handler = ExecHandler.Command(
            executable: command[0], arguments: Array(command.dropFirst()),
            terminationGraceMs: Int64(terminationGrace * 1000), persistent: persistent
        ).handler(endpoint: fanOutEndpoint) { note("spoolctl work: \($0)") }
        let worker = RemoteExecWorker(
            options: options, hello: WorkerMessage.Hello(name: name, types: types, capacity: Int32(concurrency)),
            handler: handler, drainTimeout: .milliseconds(Int(drainTimeout * 1000)))
        let signals = SignalWatch([SIGTERM, SIGINT])
        let received = signals.stream
        let stopper = Task {
            for await number in received {
                note("spoolctl work: signal \(number): draining")
                worker.stop()
            }
        }
        defer {
            stopper.cancel()
            signals.cancel()
        }
        do {
            try await worker.run()
        } catch let status as GRPCStatus {
            throw Failure(status)
        }
    }
}

/// One worker process's life: streams to the server, one after another,
/// until stopped; jobs run through `handler`.
final class RemoteExecWorker: Sendable {
    static let path = "/spool.v1.Workers/Work"
    /// After these the server will refuse again: give up at once.
    static let fatal: Set<GRPCStatus.Code> = [.unauthenticated, .permissionDenied, .invalidArgument, .unimplemented]

    private struct State {
        var stopping = false
        var requests: RequestSender?
        var running: [String: Task<Void, Never>] = [:]
    }

    let options: ServerOptions
    let hello: WorkerMessage.Hello
    let handler: any JobHandler
    let drainTimeout: Duration
    private let state = Mutex(State())
    private let stopped = AsyncStream<Void>.makeStream()

    init(options: ServerOptions, hello: WorkerMessage.Hello, handler: any JobHandler, drainTimeout: Duration) {
        self.options = options
        self.hello = hello
        self.handler = handler
        self.drainTimeout = drainTimeout
    }

    /// Takes no new jobs; running ones get the drain timeout, then are stopped.
    func stop() {
        let requests = state.withLock { state -> RequestSender? in
            guard !state.stopping else { return nil }
            state.stopping = true
            return state.requests
        }
        stopped.continuation.finish()
        requests?.send(WorkerMessage(.draining).serializedBytes())
        let drainTimeout = self.drainTimeout
        Task {
            try? await Task.sleep(for: drainTimeout)
            let (running, requests) = state.withLock { (Array($0.running.values), $0.requests) }
            for job in running { job.cancel() }
            for job in running { await job.value }
            requests?.finish()
        }
        finishIfIdle()
    }

    func run() async throws {
        let metadata = options.token.map { [(name: "authorization", value: "Bearer \($0)")] } ?? []
        var delay = 0.1
        while !state.withLock({ $0.stopping }) {
            var welcomed = false
            do {
                let client = try await options.connect()
                defer { Task { await client.close() } }
                try await serve(client: client, metadata: metadata, welcomed: &welcomed)
            } catch let status as GRPCStatus where Self.fatal.contains(status.code) {
                throw status
            } catch {
                if !state.withLock({ $0.stopping }) { note("spoolctl work: the stream ended: \(error); reconnecting") }
            }
            if state.withLock({ $0.stopping }) { break }
            delay = welcomed ? 0.1 : min(5, delay * 2)
            // Full jitter: a restarted server is not met by every worker at once.
            let wait = Double.random(in: 0...delay)
            let stop = stopped.stream
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
                group.addTask { for await _ in stop {} }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private func serve(client: GRPCClient, metadata: [(name: String, value: String)], welcomed: inout Bool) async throws {
        let (requests, responses) = client.streamingCall(Self.path, metadata: metadata)
        requests.send(WorkerMessage(.hello(hello)).serializedBytes())
        let stopping = state.withLock { state in
            state.requests = requests
            return state.stopping
        }
        if stopping { requests.send(WorkerMessage(.draining).serializedBytes()) }
        var heartbeat: Task<Void, Never>?
        defer {
            heartbeat?.cancel()
            // Their answers cannot reach the server now: stop them.
            let running = state.withLock { state in
                state.requests = nil
                return Array(state.running.values)
            }
            for job in running { job.cancel() }
        }
        for try await bytes in responses {
            let command = try WorkerCommandMessage(serializedBytes: bytes)
            switch command.body {
            case .welcome(let workerId, let intervalMs, _):
                welcomed = true
                note("spoolctl work: connected to \(options.server) as \(workerId) (\(hello.types.joined(separator: ", ")))")
                heartbeat = Task {
                    let beat = WorkerMessage(.heartbeat).serializedBytes()
                    while (try? await Task.sleep(for: .milliseconds(max(50, intervalMs)))) != nil { requests.send(beat) }
                }
            case .assign(let assignment):
                start(assignment, requests: requests)
            case .assignments(let assignments):
                for assignment in assignments { start(assignment, requests: requests) }
            case .cancel(let lease, _, let message):
                note("spoolctl work: job \(lease.jobId): \(message)")
                state.withLock { $0.running[lease.leaseId] }?.cancel()
            case .ack(let lease, let refusal, let message):
                if refusal != .none { note("spoolctl work: job \(lease.jobId): the answer was refused: \(message)") }
            case .drain(_, let message):
                note("spoolctl work: the server is draining: \(message)")
            case .none:
                break
            }
        }
    }

    private func start(_ assignment: WorkerCommandMessage.Assignment, requests: RequestSender) {
        let lease = assignment.lease, handler = self.handler
        let throttle = Mutex(ContinuousClock.Instant.now - .seconds(1))
        let context = JobContext(
            id: lease.jobId, type: assignment.type, attempt: lease.attempt, payload: assignment.payload,
            labels: assignment.labels, batchID: assignment.batchId, dependencySummary: assignment.dependencySummary
        ) { progress in
            // At most ten progress messages a second, and always the last one.
            let now = ContinuousClock.Instant.now
            guard throttle.withLock({ last in
                guard progress.fraction >= 1 || now - last >= .milliseconds(100) else { return false }
                last = now
                return true
            }) else { return }
            requests.send(WorkerMessage(.progress(lease, JobProgress(
                fraction: progress.fraction, step: progress.step, message: progress.message))).serializedBytes())
        }
        let run: @Sendable () async -> Void = {
            let outcome: WorkerMessage.Outcome
            do {
                outcome = .result(try await handler.run(context))
            } catch JobFailure.permanent(let message) {
                outcome = .failure(message: message, permanent: true, retryAfterMs: 0)
            } catch JobFailure.retryable(let message, let retryAfterMs) {
                outcome = .failure(message: message, permanent: false, retryAfterMs: retryAfterMs ?? 0)
            } catch is CancellationError {
                outcome = .failure(message: "stopped by spoolctl work", permanent: false, retryAfterMs: 0)
            } catch {
                outcome = .failure(message: "\(error)", permanent: false, retryAfterMs: 0)
            }
            requests.send(WorkerMessage(.outcome(.init(lease, outcome))).serializedBytes())
            self.state.withLock { _ = $0.running.removeValue(forKey: lease.leaseId) }
            self.finishIfIdle()
        }
        // Registered under the lock that its end takes too: a job that ends at once is still forgotten.
        let stopping = state.withLock { state -> Bool in
            if state.stopping { return true }
            state.running[lease.leaseId] = Task { await run() }
            return false
        }
        if stopping {
            requests.send(WorkerMessage(.outcome(.init(lease, .released("the worker is stopping")))).serializedBytes())
        }
    }

    /// Once stopping and idle, the request stream half-closes: the server ends the call.
    private func finishIfIdle() {
        let requests = state.withLock { state -> RequestSender? in
            state.stopping && state.running.isEmpty ? state.requests : nil
        }
        requests?.finish()
    }
}

/// Signals as an async sequence, instead of their default action.
final class SignalWatch {
    let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(_ numbers: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
    }
}
