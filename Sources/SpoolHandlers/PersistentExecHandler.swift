import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import SpoolCore
import Subprocess
import SystemPackage

/// `exec` with `persistent: true` (docs/exec.md: persistent exec workers): the
/// command is started once and fed one job after another, so what it loads
/// (a model, a session) is loaded once.
///
/// - Each job is one JSON line on the command's standard input:
///   `{"id":…,"type":…,"attempt":1,"labels":{…},"batch_id":…,"payload":"…"}` (the payload
///   as text when it is UTF-8, else `"payload_b64"`).
/// - The command answers on standard output with the exec messages
///   (progress lines, then one `result`/`result_b64` or `error` line, which
///   ends the job); other lines are logged.
/// - As many processes run as jobs of the type run at once; an idle one is
///   reused. A process that exits during a job fails it retryably; one that
///   breaks the protocol fails it permanently; either is replaced at the next
///   job. A process found gone when its next job is handed over (it exited
///   while idle, or ended without a word before answering it) costs that job
///   nothing: the job goes to a fresh process.
/// - A job cannot be stopped alone: a cancel or a timeout stops the job's
///   process (SIGTERM to its group, then SIGKILL after the grace), and the
///   next job starts a fresh one. A process should exit when its standard
///   input closes (spoold stopping, or the handler going).
public final class PersistentExecHandler: JobHandler {
    public let command: ExecHandler.Command
    private let endpoint: SpoolEndpoint
    private let log: @Sendable (String) -> Void
    private let idle = Mutex<[PersistentProcess]>([])

    public init(command: ExecHandler.Command, endpoint: SpoolEndpoint = SpoolEndpoint(),
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.command = command
        self.endpoint = endpoint
        self.log = log
        _ = ExecHandler(command: command)  // SIGPIPE ignored, as for every exec command
    }

    deinit {
        for process in idle.withLock({ $0 }) { process.close() }
    }

    public func run(_ job: JobContext) async throws -> [UInt8] {
        // An idle process that went since its last job is found when its
        // next job cannot be handed over: that job goes to a fresh one.
        while true {
            let reused = idle.withLock { $0.popLast() }
            let process = reused ?? PersistentProcess(command: command, adding: endpoint.environment, log: log)
            let outcome = await withTaskCancellationHandler {
                await process.run(job)
            } onCancel: {
                process.stop()
            }
            if outcome.processUsable && !Task.isCancelled {
                idle.withLock { $0.append(process) }
            } else {
                process.close()
            }
            try Task.checkCancellation()
            if reused != nil && !outcome.taken { continue }
            return try outcome.messages.outcome()
        }
    }
}

/// One long-lived process of a persistent exec type, taking one job at a
/// time. Its whole life runs in one task (Subprocess's closure), which takes
/// jobs from `requests`.
final class PersistentProcess: Sendable {
    struct Outcome: Sendable {
        var messages: Messages
        /// It answered the job and is still running: it may take another.
        var processUsable: Bool
        /// The job reached the process (false: it had gone before).
        var taken: Bool
    }

    private struct Request: Sendable {
        let job: JobContext
        let line: [UInt8]
        let reply: CheckedContinuation<Outcome, Never>
    }

    private let requests: AsyncStream<Request>.Continuation
    private let group: ProcessGroup
    private let life: Task<Void, Never>

    init(command: ExecHandler.Command, adding variables: [String: String], log: @escaping @Sendable (String) -> Void) {
        let (stream, requests) = AsyncStream.makeStream(of: Request.self)
        let group = ProcessGroup(terminationGraceMs: command.terminationGraceMs)
        self.requests = requests
        self.group = group
        life = Task { await Self.live(command, adding: variables, group: group, requests: stream, log: log) }
    }

    func run(_ job: JobContext) async -> Outcome {
        var fields: [String: Any] = ["id": job.id, "type": job.type, "attempt": Int(job.attempt), "labels": job.labels,
                                     "batch_id": job.batchID]
        if !job.dependencySummary.isEmpty { fields["dependency_summary"] = job.dependencySummary }
        if let text = String(validating: job.payload, as: UTF8.self) {
            fields["payload"] = text
        } else {
            fields["payload_b64"] = Data(job.payload).base64EncodedString()
        }
        let line = Array((try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()) + [10]
        return await withCheckedContinuation { reply in
            if case .terminated = requests.yield(Request(job: job, line: line, reply: reply)) {
                var messages = Messages()
                messages.processLost = "the persistent worker process has stopped"
                reply.resume(returning: Outcome(messages: messages, processUsable: false, taken: false))
            }
        }
    }

    /// Stops the process (SIGTERM, then SIGKILL): its job ends failed.
    func stop() {
        group.stop()
    }

    /// No more jobs: the process's standard input closes and its group is stopped.
    func close() {
        requests.finish()
        group.stop()
    }

    private static func live(
        _ command: ExecHandler.Command, adding variables: [String: String], group: ProcessGroup,
        requests: AsyncStream<Request>, log: @escaping @Sendable (String) -> Void
    ) async {
        let launch = command.launch(adding: variables.merging(["SPOOL_PERSISTENT": "1"]) { $1 })
        var startFailure: String?
        do {
            // Its standard error is the host's: a persistent process's log
            // (a model loading, a traceback) belongs to no single job.
            let execution = try await Subprocess.run(
                launch.executable, arguments: launch.arguments, environment: launch.environment,
                workingDirectory: launch.workingDirectory, platformOptions: launch.options,
                input: .inputWriter, output: .sequence, error: .currentStandardError
            ) { execution in
                group.started(execution.processIdentifier.value)
                await serve(requests, input: execution.standardInputWriter, output: execution.standardOutput, log: log)
                try? await execution.standardInputWriter.finish()
                group.stop()
            }
            _ = execution
        } catch let error as SubprocessError where error.cannotStart {
            startFailure = "cannot start \(command.executable): \(error)"
        } catch {
            log("persistent exec: \(command.executable): \(error)")
        }
        group.exited()
        // Whatever still waits for this process is answered: it is gone.
        for await request in requests {
            var messages = Messages()
            if let startFailure { messages.broken = startFailure }
            messages.processLost = "the persistent worker process has stopped"
            request.reply.resume(returning: Outcome(messages: messages, processUsable: false, taken: false))
        }
    }

    /// Feeds the process one request after another, each answered when its
    /// result or error line comes, until the requests end or the process
    /// goes.
    private static func serve(
        _ requests: AsyncStream<Request>, input: StandardInputWriter, output: SubprocessOutputSequence,
        log: @escaping @Sendable (String) -> Void
    ) async {
        var lines = output.strings(bufferingPolicy: .maxLineLength(ExecHandler.maxLineBytes)).makeAsyncIterator()
        var pending = requests.makeAsyncIterator()
        var served = 0
        while let request = await pending.next() {
            var messages = Messages()
            messages.endsWithExit = false
            messages.processLost = "the persistent worker process has stopped"
            do {
                _ = try await input.write(request.line)
            } catch {
                // It went while idle: the job was never handed over.
                request.reply.resume(returning: Outcome(messages: messages, processUsable: false, taken: false))
                return
            }
            var said = false
            do {
                while !messages.answered {
                    guard let line = try await lines.next() else { break }
                    said = true
                    await messages.read(line, job: request.job, log: log)
                }
                if messages.answered { messages.processLost = nil }
            } catch {
                messages.broken = "cannot read the command's output: \(error)"
            }
            if messages.processLost != nil { messages.processLost = "the persistent worker process exited during the job" }
            let usable = messages.broken == nil && messages.processLost == nil
            // A process that had served jobs and ended without a word may
            // have ended before it read this one: it counts as not handed over.
            let taken = usable || said || served == 0 || messages.broken != nil
            request.reply.resume(returning: Outcome(messages: messages, processUsable: usable, taken: taken))
            if !usable { return }
            served += 1
        }
    }

    deinit {
        life.cancel()
    }
}
