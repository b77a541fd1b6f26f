import ArgumentParser
import Foundation
import GRPCH2
import SpoolWire

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow jobs, a batch or a queue live: progress bars on a terminal, one line per event otherwise.",
        discussion: "Job and batch watches end when every job has ended (exit 3 unless all succeeded); a queue watch runs "
            + "until interrupted. A broken stream (a server restart, a dropped connection) is resumed from the last "
            + "event seen, for up to a minute.")

    @OptionGroup var serverOptions: ServerOptions

    @Argument(help: "Job ids to watch.")
    var jobIDs: [String] = []

    @Option(help: "Watch every job of this batch.")
    var batch: String?

    @Option(help: "Watch everything that happens in this queue.")
    var queue: String?

    @Option(help: "Resume after this event seq (as printed by a previous watch).")
    var afterSeq: UInt64 = 0

    func validate() throws {
        let selections = [!jobIDs.isEmpty, batch != nil, queue != nil].filter { $0 }.count
        guard selections == 1 else { throw ValidationError("give job ids, --batch or --queue (exactly one)") }
    }

    func run() async throws {
        var request = StreamProgressRequest()
        request.jobIds = jobIDs
        request.batchId = batch ?? ""
        request.queue = queue ?? ""
        request.afterSeq = afterSeq
        try await ProgressWatcher(serverOptions: serverOptions, request: request).run()
    }
}

/// Follows one StreamProgress selection to its end, reconnecting and resuming
/// with `after_seq` when the stream breaks.
struct ProgressWatcher {
    static let resumeFor: Duration = .seconds(60)

    let serverOptions: ServerOptions
    let request: StreamProgressRequest

    func run() async throws {
        var view = ProgressView(interactive: standardOutputIsTerminal && request.queue.isEmpty)
        var request = self.request
        var brokenSince: ContinuousClock.Instant?
        var delay: Duration = .milliseconds(50)
        while true {
            do {
                try await SpoolConnection.with(serverOptions) { connection in
                    for try await event in connection.progress(request) {
                        brokenSince = nil
                        delay = .milliseconds(50)
                        if event.seq > 0 { request.afterSeq = event.seq }
                        view.apply(event)
                    }
                }
                view.finish()
                break
            } catch let status as GRPCStatus where status.code == .unavailable || status.code == .resourceExhausted {
                let now = ContinuousClock.now
                let since = brokenSince ?? now
                brokenSince = since
                guard since.duration(to: now) < Self.resumeFor else {
                    view.finish()
                    throw Failure(GRPCStatus(status.code, "gave up resuming after \(Self.resumeFor): \(status.message)"))
                }
                note("spoolctl: stream broke (\(status.code.name): \(status.message)); resuming after seq \(request.afterSeq)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(1))
            } catch let status as GRPCStatus {
                view.finish()
                throw Failure(status)
            }
        }
        if !view.everyJobSucceeded { throw ExitCode(3) }
    }
}

/// What a watch shows: on a terminal, a block of lines redrawn in place (the
/// batch's totals, then one progress bar per job); otherwise one line per event.
struct ProgressView {
    static let shownJobs = 12
    let interactive: Bool
    private var jobs: [String: Job] = [:]
    private var order: [String] = []
    private var batch: BatchSummary?
    private var drawnLines = 0
    private var lastDraw = ContinuousClock.now - .seconds(1)

    init(interactive: Bool) { self.interactive = interactive }

    var everyJobSucceeded: Bool {
        !jobs.isEmpty && jobs.values.allSatisfy { $0.state == .succeeded }
    }

    mutating func apply(_ event: ProgressEvent) {
        guard let job = event.job else { return }
        if jobs[job.id] == nil { order.append(job.id) }
        jobs[job.id] = job
        if let summary = event.batch { batch = summary }
        if interactive {
            // Many events a second would only flicker: draw at most 20 times a second.
            if ContinuousClock.now - lastDraw > .milliseconds(50) || job.state.isTerminal { draw() }
        } else {
            let nowMs = event.timeMs > 0 ? event.timeMs : Int64(Date().timeIntervalSince1970 * 1000)
            var line = "\(clock(ms: nowMs))  \(event.kind.name.padding(toLength: 8, withPad: " ", startingAt: 0))  "
                + JobLine(job, nowMs: nowMs).plain
            if !event.note.isEmpty { line += "  (\(event.note))" }
            if event.seq > 0 { line += "  seq \(event.seq)" }
            if let summary = event.batch { line += "  | " + BatchLine(summary, nowMs: nowMs).text }
            output(line)
        }
    }

    mutating func finish() {
        if interactive { draw() }
    }

    private mutating func draw() {
        lastDraw = .now
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        var lines: [String] = []
        if let batch { lines.append(BatchLine(batch, nowMs: nowMs).text) }
        // Unfinished jobs first (running, then by queue position), then the finished.
        let ranked = order.compactMap { jobs[$0] }.enumerated().sorted { a, b in
            (a.element.state.rank, a.element.position, a.offset) < (b.element.state.rank, b.element.position, b.offset)
        }.map(\.element)
        for job in ranked.prefix(Self.shownJobs) { lines.append(JobLine(job, nowMs: nowMs).bar) }
        if ranked.count > Self.shownJobs { lines.append("… and \(ranked.count - Self.shownJobs) more") }
        var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)F" : ""
        for line in lines { out += "\u{1B}[2K" + line + "\n" }
        output(out, terminator: "")
        drawnLines = lines.count
    }
}

/// One job in one line: with a progress bar (terminal), plain (log), or in
/// full (status).
struct JobLine {
    let job: Job
    let nowMs: Int64

    init(_ job: Job, nowMs: Int64) {
        self.job = job
        self.nowMs = nowMs
    }

    /// 0…1 whatever the server sent (a NaN or an out-of-range value draws as 0 or full, never traps).
    private var fraction: Double {
        let sent = job.progress?.fraction ?? 0
        return sent.isFinite ? min(1, max(0, sent)) : 0
    }

    private var situation: String {
        var parts: [String] = []
        if let step = job.progress?.step, !step.isEmpty { parts.append(step) }
        switch job.state {
        case .queued:
            parts.append("position \(job.position)")
            // Why it waits, unless only the jobs before it hold it (the position says that).
            if let wait = job.wait, wait.kind != .behind { parts.append("(\(wait.text))") }
        case .scheduled where job.runAtMs > nowMs: parts.append("runs in \(duration(ms: job.runAtMs - nowMs))")
        case .blocked: if let wait = job.wait { parts.append("(\(wait.text))") }
        case .running where job.etaMs > nowMs: parts.append("ETA \(duration(ms: job.etaMs - nowMs))")
        case .succeeded where job.startedAtMs > 0: parts.append("took \(duration(ms: job.finishedAtMs - job.startedAtMs))")
        case .failed, .cancelled: if let error = job.error { parts.append(error.message) }
        default: break
        }
        if job.attempt > 1 { parts.append("attempt \(job.attempt)/\(job.maxAttempts)") }
        return parts.joined(separator: "  ")
    }

    var bar: String {
        let width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        return "\(job.id)  \(job.state.name.padding(toLength: 9, withPad: " ", startingAt: 0))  \(bar) "
            + String(format: "%3.0f%%", fraction * 100) + "  " + situation
    }

    var plain: String {
        "\(job.id)  \(job.state.name)  " + String(format: "%.0f%%", fraction * 100) + "  " + situation
    }

    var detail: String {
        var lines = [
            "job \(job.id)", "  type      \(job.type)", "  queue     \(job.queue)",
            "  state     \(job.state.name)" + (situation.isEmpty ? "" : "  (\(situation))"),
            "  progress  " + String(format: "%.0f%%", fraction * 100),
            "  attempts  \(job.attempt) of \(job.maxAttempts)",
            "  created   \(clock(ms: job.createdAtMs))",
        ]
        if !job.batchId.isEmpty { lines.append("  batch     \(job.batchId)") }
        if !job.lockKeys.isEmpty { lines.append("  locks     \(job.lockKeys.joined(separator: ", "))") }
        if !job.labels.isEmpty {
            lines.append("  labels    " + job.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if let error = job.error, !error.message.isEmpty {
            lines.append("  error     \(error.code): \(error.message)" + (error.retryable ? " (retryable)" : ""))
        }
        if !job.result.isEmpty {
            let text = String(decoding: job.result.prefix(200), as: UTF8.self)
            let printable = text.unicodeScalars.allSatisfy { $0.value >= 32 || $0 == "\n" || $0 == "\t" }
            lines.append("  result    " + (printable ? text + (job.result.count > 200 ? "…" : "") : "\(job.result.count) bytes"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

struct BatchLine {
    let text: String

    init(_ batch: BatchSummary, nowMs: Int64) {
        let counts = batch.counts ?? JobCounts()
        let done = counts.succeeded + counts.failed + counts.cancelled
        var text = "batch \(batch.batchId): \(done)/\(batch.total) done (" + String(format: "%.0f%%", batch.percent)
            + "): \(counts.succeeded) succeeded, \(counts.failed) failed, \(counts.cancelled) cancelled, "
            + "\(counts.running) running, \(counts.queued + counts.scheduled + counts.blocked) waiting"
        if batch.etaMs > nowMs, done < batch.total { text += ", ETA \(duration(ms: batch.etaMs - nowMs))" }
        self.text = text
    }
}

extension WireJobState {
    var name: String { String(describing: self).uppercased() }
    var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
    /// Running first, then waiting, then finished.
    var rank: Int {
        switch self {
        case .running: 0
        case .queued: 1
        case .scheduled: 2
        case .blocked: 3
        default: 4
        }
    }
}

extension ProgressEvent.Kind {
    var name: String { String(describing: self) }
}

/// A span for people: 850ms, 3.2s, 4m05s, 2h03m.
func duration(ms: Int64) -> String {
    switch ms {
    case ..<1000: return "\(max(0, ms))ms"
    case ..<60_000: return String(format: "%.1fs", Double(ms) / 1000)
    case ..<3_600_000: return String(format: "%dm%02ds", ms / 60_000, ms / 1000 % 60)
    default: return String(format: "%dh%02dm", ms / 3_600_000, ms / 60_000 % 60)
    }
}

/// Local wall-clock time of a millisecond timestamp, HH:MM:SS.mmm.
func clock(ms: Int64) -> String {
    var seconds = time_t(ms / 1000)
    var parts = tm()
    localtime_r(&seconds, &parts)
    return String(format: "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec, Int(ms % 1000))
}
