import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import SpoolCore
import Subprocess
import SystemPackage

/// `exec` (docs/design.md §6): runs a configured command for each job, in a
/// process group of its own.
///
/// - The payload is the command's standard input; `SPOOL_JOB_ID`,
///   `SPOOL_JOB_TYPE`, `SPOOL_ATTEMPT`, `SPOOL_BATCH_ID` and
///   `SPOOL_DEPENDENCY_SUMMARY` (a batch callback's summary) are in its
///   environment, with `SPOOL_SERVER` and `SPOOL_TOKEN` (`SpoolEndpoint`).
/// - Each standard output line that is a JSON object is a message:
///   `{"progress":0.4,"step":"denoise","message":"…"}`, `{"result":"…"}` or
///   `{"result_b64":"…"}`, `{"error":"…","retryable":false,"retry_after_ms":…}`.
///   Other lines go to `log`.
/// - Exit status 0 is success, with the last result message as the result.
///   Any other end is a failure: permanent if the command said
///   `"retryable":false`, else retryable (after `retry_after_ms` if given).
///   The failure's text is the command's error message, or its exit status,
///   followed by the end of its standard error.
/// - A cancelled or timed-out job's process group gets SIGTERM, then SIGKILL
///   after `terminationGraceMs`. When the command exits, whatever is left of
///   its process group gets SIGKILL.
public struct ExecHandler: JobHandler {
    public struct Command: Sendable, Equatable {
        /// A path, or a name looked up in `PATH`.
        public var executable: String
        public var arguments: [String]
        /// Added to (or replacing) spoold's own environment.
        public var environment: [String: String]
        public var workingDirectory: String?
        /// Time between SIGTERM and SIGKILL when a job is cancelled or times out.
        public var terminationGraceMs: Int64
        /// Started once and fed one job after another (`PersistentExecHandler`),
        /// rather than started for each job.
        public var persistent: Bool

        public init(executable: String, arguments: [String] = [], environment: [String: String] = [:],
                    workingDirectory: String? = nil, terminationGraceMs: Int64 = 5000, persistent: Bool = false) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.terminationGraceMs = terminationGraceMs
            self.persistent = persistent
        }

        /// The handler running this command: one process per job, or a persistent one.
        public func handler(endpoint: SpoolEndpoint = SpoolEndpoint(), log: @escaping @Sendable (String) -> Void) -> any JobHandler {
            persistent ? PersistentExecHandler(command: self, endpoint: endpoint, log: log)
                : ExecHandler(command: self, endpoint: endpoint, log: log)
        }
    }

    /// Longest standard output line read; a longer one fails the job.
    public static let maxLineBytes = 16 << 20
    /// How much of the end of standard error a failure keeps.
    public static let maxErrorTextBytes = 4096

    public let command: Command
    private let endpoint: SpoolEndpoint
    private let log: @Sendable (String) -> Void

    /// `log` gets the standard output lines that are not messages, prefixed
    /// with the job id.
    public init(command: Command, endpoint: SpoolEndpoint = SpoolEndpoint(), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.command = command
        self.endpoint = endpoint
        self.log = log
        _ = Self.ignoreSIGPIPE
    }

    /// A command that exits without reading all of its payload closes the
    /// pipe being written: that write must fail with EPIPE, not raise
    /// SIGPIPE, whose default action would kill the whole server. Set once,
    /// for the process, by the first exec handler made.
    private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

    public func run(_ job: JobContext) async throws -> [UInt8] {
        let group = ProcessGroup(terminationGraceMs: command.terminationGraceMs)
        let command = self.command, log = self.log
        // The command runs in a task of its own, which a cancel does not
        // reach: a cancel signals the process group instead, and this run
        // returns only once the command has exited and its output is read.
        let variables = endpoint.environment.merging([
            "SPOOL_JOB_ID": job.id, "SPOOL_JOB_TYPE": job.type, "SPOOL_ATTEMPT": String(job.attempt),
            "SPOOL_BATCH_ID": job.batchID, "SPOOL_DEPENDENCY_SUMMARY": job.dependencySummary,
        ]) { $1 }
        let execution = Task { try await Self.execute(command, adding: variables, job: job, group: group, log: log) }
        // However the run ends, nothing of its process group outlives it.
        defer { group.exited() }
        let messages = try await withTaskCancellationHandler {
            try await execution.value
        } onCancel: {
            group.stop()
        }
        try Task.checkCancellation()
        return try messages.outcome()
    }

    private static func execute(
        _ command: Command, adding variables: [String: String], job: JobContext, group: ProcessGroup,
        log: @escaping @Sendable (String) -> Void
    ) async throws -> Messages {
        let launch = command.launch(adding: variables)
        do {
            let execution = try await Subprocess.run(
                launch.executable, arguments: launch.arguments, environment: launch.environment,
                workingDirectory: launch.workingDirectory, platformOptions: launch.options,
                input: .inputWriter, output: .sequence, error: .sequence
            ) { execution in
                group.started(execution.processIdentifier.value)
                async let fed: Void = feed(job.payload, to: execution.standardInputWriter)
                async let stderrTail = tail(of: execution.standardError)
                var messages = Messages()
                do {
                    for try await line in execution.standardOutput.strings(bufferingPolicy: .maxLineLength(maxLineBytes)) {
                        await messages.read(line, job: job, log: log)
                    }
                } catch {
                    // Unread output would block the command: stop it.
                    group.kill()
                    messages.broken = "cannot read the command's output: \(error)"
                }
                messages.stderrTail = await stderrTail
                await fed
                return messages
            }
            var messages = execution.closureResult
            messages.status = execution.terminationStatus
            return messages
        } catch let error as SubprocessError where error.cannotStart {
            throw JobFailure.permanent("exec: cannot start \(command.executable): \(error)")
        }
    }

    /// Writes the payload to the command's standard input and closes it. A
    /// command may exit without reading it all: that write fails, and the
    /// job's outcome is still the command's.
    private static func feed(_ payload: [UInt8], to input: StandardInputWriter) async {
        if !payload.isEmpty { _ = try? await input.write(payload) }
        try? await input.finish()
    }

    /// The last `maxErrorTextBytes` of `output`, read to its end.
    private static func tail(of output: SubprocessOutputSequence) async -> [UInt8] {
        var tail: [UInt8] = []
        do {
            for try await buffer in output {
                // The buffer's bytes are valid only inside the closure: copy them.
                buffer.withUnsafeBytes { tail.append(contentsOf: $0) }
                if tail.count > 2 * maxErrorTextBytes { tail.removeFirst(tail.count - maxErrorTextBytes) }
            }
        } catch {}
        return Array(tail.suffix(maxErrorTextBytes))
    }
}

extension ExecHandler.Command {
    /// How Subprocess starts the command: in a new process group it leads,
    /// with `variables` added to its environment.
    struct Launch {
        var executable: Executable
        var arguments: Arguments
        var environment: Environment
        var workingDirectory: FilePath?
        var options: PlatformOptions
    }

    func launch(adding variables: [String: String]) -> Launch {
        var options = PlatformOptions()
        options.processGroupID = 0  // a new group, led by the command
        var updates: [Environment.Key: String?] = [:]
        for (name, value) in environment.merging(variables, uniquingKeysWith: { $1 }) {
            if let key = Environment.Key(rawValue: name) { updates[key] = value }
        }
        return Launch(
            executable: executable.contains("/") ? .path(FilePath(executable)) : .name(executable),
            arguments: Arguments(arguments), environment: .inherit.updating(updates),
            workingDirectory: workingDirectory.map { FilePath($0) }, options: options)
    }
}

extension SubprocessError {
    /// The command could not be started at all: trying again will not help.
    var cannotStart: Bool {
        code == .executableNotFound || code == .spawnFailed || code == .failedToChangeWorkingDirectory
    }
}

/// What a command said on standard output.
struct Messages: Sendable {
    var result: [UInt8] = []
    var error: String?
    var retryable = true
    var retryAfterMs: Int64?
    /// How the command broke the protocol, or why its output could not be read.
    var broken: String?
    var stderrTail: [UInt8] = []
    var status = TerminationStatus.exited(0)
    /// A result or error line came (a persistent command's job ends there).
    var answered = false
    /// A persistent command's process went during the job (retryable).
    var processLost: String?
    /// Whether the exit status is part of the outcome (not for persistent commands).
    var endsWithExit = true

    private struct Line: Decodable {
        var progress: Double?
        var step: String?
        var message: String?
        var result: String?
        var result_b64: String?
        var error: String?
        var retryable: Bool?
        var retry_after_ms: Int64?
    }

    /// One decoder for every line of a run, not one per line.
    private let decoder = JSONDecoder()

    mutating func read(_ text: String, job: JobContext, log: (String) -> Void) async {
        if let progress = take(text, log: { log("job \(job.id): \($0)") }) {
            await job.report(progress: progress.fraction, step: progress.step, message: progress.message)
        }
    }

    /// Takes in one line of the command's output: a message changes what
    /// the command said; another line goes to `log`. Answers the progress
    /// the line reports, if any. Any line at all may come here.
    mutating func take(_ text: String, log: (String) -> Void) -> JobRecord.Progress? {
        guard text.first == "{", let line = try? decoder.decode(Line.self, from: Data(text.utf8)) else {
            if !text.isEmpty { log(text) }
            return nil
        }
        if line.result != nil || line.result_b64 != nil || line.error != nil { answered = true }
        if let result = line.result { self.result = Array(result.utf8) }
        if let encoded = line.result_b64 {
            if let decoded = Data(base64Encoded: encoded) { result = Array(decoded) } else { broken = "result_b64 is not base64" }
        }
        if let error = line.error {
            self.error = error
            retryable = line.retryable ?? true
            retryAfterMs = line.retry_after_ms.flatMap { $0 > 0 ? $0 : nil }
        }
        return line.progress.map { JobRecord.Progress(fraction: $0, step: line.step ?? "", message: line.message ?? "") }
    }

    func outcome() throws -> [UInt8] {
        if let broken { throw JobFailure.permanent("exec: \(broken)" + stderrText) }
        if let processLost { throw JobFailure.retryable("exec: \(processLost)") }
        if !endsWithExit {
            guard let error else { return result }
            if !retryable { throw JobFailure.permanent(error) }
            throw JobFailure.retryable(error, retryAfterMs: retryAfterMs)
        }
        let ended: String
        switch status {
        case .exited(0): return result
        case .exited(let code): ended = "exited with status \(code)"
        case .signaled(let signal): ended = "killed by signal \(signal)"
        }
        let text = (error.map { "\($0) (\(ended))" } ?? ended) + stderrText
        if !retryable { throw JobFailure.permanent(text) }
        throw JobFailure.retryable(text, retryAfterMs: retryAfterMs)
    }

    private var stderrText: String {
        stderrTail.isEmpty ? "" : "; stderr: " + String(decoding: stderrTail, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The command's process group, and how a cancel stops it: SIGTERM to the
/// group, then SIGKILL if the command has not exited after the grace period.
/// Once the command has exited, whatever is left of its group gets SIGKILL
/// at once.
final class ProcessGroup: Sendable {
    private struct State {
        var id: pid_t?
        var stopping = false
        var killer: Task<Void, Never>?
    }

    private let terminationGraceMs: Int64
    private let state = Mutex(State())

    init(terminationGraceMs: Int64) { self.terminationGraceMs = terminationGraceMs }

    /// The command started; its pid is its group's id.
    func started(_ id: pid_t) {
        let stopping = state.withLock { state in
            state.id = id
            return state.stopping
        }
        if stopping { terminate(id) }
    }

    func stop() {
        let id = state.withLock { state in
            state.stopping = true
            return state.id
        }
        if let id { terminate(id) }
    }

    func kill() {
        if let id = state.withLock({ $0.id }) { signal(SIGKILL, to: id) }
    }

    /// The command has exited and its output is read: whatever is left of
    /// its group (a child it started in the background and did not wait
    /// for) gets SIGKILL, whether the attempt succeeded, failed or was
    /// stopped. An attempt leaves no process behind.
    func exited() {
        let (id, killer) = state.withLock { state in
            defer { state.killer = nil }
            return (state.id, state.killer)
        }
        killer?.cancel()
        if let id { signal(SIGKILL, to: id) }
    }

    private func terminate(_ id: pid_t) {
        signal(SIGTERM, to: id)
        let graceMs = terminationGraceMs
        let killer = Task {
            guard (try? await Task.sleep(for: .milliseconds(graceMs))) != nil else { return }
            self.signal(SIGKILL, to: id)
        }
        state.withLock { $0.killer = killer }
    }

    private func signal(_ number: Int32, to id: pid_t) {
        _ = Glibc.kill(-id, number)
    }
}

/// Where a job's command reaches the spoold running it, to enqueue more
/// work (a fan-out): `SPOOL_SERVER` (HOST:PORT) and, when the server needs
/// tokens, `SPOOL_TOKEN`, a token spoold makes at start for its own jobs.
/// Set once spoold knows its address; read at each launch.
public final class SpoolEndpoint: Sendable {
    private let variables = Mutex<[String: String]>([:])

    public init() {}

    public func set(server: String, token: String?) {
        variables.withLock { variables in
            variables["SPOOL_SERVER"] = server
            variables["SPOOL_TOKEN"] = token
        }
    }

    var environment: [String: String] { variables.withLock { $0 } }
}
