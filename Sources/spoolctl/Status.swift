import ArgumentParser
import Foundation
import SpoolWire

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the queues, workers, rate limiters and locks, and the jobs or batch asked for.")

    @OptionGroup var serverOptions: ServerOptions

    @Argument(help: "Job ids to show in full.")
    var jobIDs: [String] = []

    @Option(help: "Show this batch's totals.")
    var batch: String?

    @Option(name: .customLong("queue"), help: "Only these queues (repeatable; default: all).")
    var queues: [String] = []

    func run() async throws {
        let request = GetStatusRequest(queues: queues, jobIds: jobIDs, batchId: batch ?? "")
        let status = try await withConnection(serverOptions) { try await $0.status(request) }
        output(StatusReport(status).text, terminator: "")
    }
}

/// GetStatus as text tables.
struct StatusReport {
    let status: GetStatusResponse

    init(_ status: GetStatusResponse) { self.status = status }

    var text: String {
        var out = ""
        if !status.queues.isEmpty {
            out += table(["QUEUE", "BLOCKED", "SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "CONCURRENCY",
                          "PER MIN", "MEAN RUN"],
                         status.queues.map { queue in
                             let counts = queue.counts ?? JobCounts()
                             return [queue.name + (queue.paused ? " (paused)" : ""), "\(counts.blocked)", "\(counts.scheduled)", "\(counts.queued)", "\(counts.running)",
                                     "\(counts.succeeded)", "\(counts.failed)", "\(counts.cancelled)",
                                     "\(queue.concurrency)", String(format: "%.0f", queue.throughputPerMinute),
                                     queue.meanRunMs > 0 ? duration(ms: queue.meanRunMs) : "-"]
                         })
        }
        let busy = status.workers.filter(\.busy)
        out += "\nspoold workers: \(busy.count) of \(status.workers.count) busy\n"
        for worker in busy {
            out += "  #\(worker.index)  \(worker.jobId)  \(worker.queue)  for \(duration(ms: status.serverTimeMs - worker.sinceMs))\n"
        }
        if !status.remoteWorkers.isEmpty {
            out += "\n" + table(["REMOTE WORKER", "NAME", "PEER", "TYPES", "JOBS", "CONNECTED", "LAST BEAT"],
                                status.remoteWorkers.map { worker in
                                    [worker.workerId + (worker.draining ? " (draining)" : ""), worker.name, worker.peer,
                                     worker.types.joined(separator: ","), "\(worker.jobIds.count)/\(worker.capacity)",
                                     duration(ms: status.serverTimeMs - worker.connectedAtMs) + " ago",
                                     duration(ms: status.serverTimeMs - worker.lastHeartbeatMs) + " ago"]
                                })
        }
        if !status.rateLimiters.isEmpty {
            out += "\n" + table(["RATE LIMITER", "RATE/S", "CONFIGURED", "BURST", "TOKENS", "UTILISATION"],
                                status.rateLimiters.map {
                                    [$0.key, String(format: "%.2f", $0.ratePerSecond),
                                     String(format: "%.2f", $0.configuredRatePerSecond), String(format: "%.0f", $0.burst),
                                     String(format: "%.2f", $0.tokens), String(format: "%.0f%%", $0.utilisation * 100)]
                                })
        }
        if !status.locks.isEmpty {
            out += "\n" + table(["LOCK", "CAPACITY", "HOLDERS", "WAITERS"],
                                status.locks.map { [$0.key, "\($0.capacity)", $0.holders.joined(separator: ","), "\($0.waiters)"] })
        }
        if !status.schedules.isEmpty {
            out += "\n" + table(["SCHEDULE", "CRON", "TIME ZONE", "NEXT FIRE", "LAST FIRE", "FIRED", "SKIPPED"],
                                status.schedules.map { schedule in
                                    [schedule.name, schedule.cron, schedule.timeZone,
                                     schedule.nextFireMs > 0 ? "in " + duration(ms: schedule.nextFireMs - status.serverTimeMs) : "never",
                                     schedule.lastFireMs > 0 ? duration(ms: status.serverTimeMs - schedule.lastFireMs) + " ago" : "-",
                                     "\(schedule.fired)", "\(schedule.skipped)"]
                                })
        }
        if let batch = status.batch {
            out += "\n" + BatchLine(batch, nowMs: status.serverTimeMs).text + "\n"
        }
        for job in status.jobs {
            out += "\n" + JobLine(job, nowMs: status.serverTimeMs).detail
        }
        return out
    }

    private func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
