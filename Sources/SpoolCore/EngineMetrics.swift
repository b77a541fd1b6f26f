import CoreMetrics

/// What the engine reports through swift-metrics as it goes (spoold backs
/// it with Prometheus: docs/http.md): jobs finished by outcome, and
/// how long jobs waited and ran, per queue. Gauges of what is (depths,
/// limiters, locks) are read from `status` when scraped instead.
///
/// The handles of each queue are made once and kept: making one looks the
/// label set up in the backend under a lock.
struct EngineMetrics {
    private struct Handles {
        let finished: [JobState: Counter]
        let waited: Timer
        let ran: Timer

        init(queue: String) {
            var finished: [JobState: Counter] = [:]
            for state in JobState.allCases where state.isTerminal {
                finished[state] = Counter(label: "spool_jobs_finished_total",
                                          dimensions: [("queue", queue), ("outcome", "\(state)")])
            }
            self.finished = finished
            waited = Timer(label: "spool_job_wait_seconds", dimensions: [("queue", queue)])
            ran = Timer(label: "spool_job_run_seconds", dimensions: [("queue", queue)])
        }
    }

    private var queues: [String: Handles] = [:]

    private mutating func handles(_ queue: String) -> Handles {
        if let handles = queues[queue] { return handles }
        let handles = Handles(queue: queue)
        queues[queue] = handles
        return handles
    }

    /// `record` went from `old` to its state at `nowMs`.
    mutating func changed(_ record: JobRecord, from old: JobState, atMs nowMs: Int64) {
        switch record.state {
        case .running where old == .queued:
            // Waiting: from when it could first have run to its start.
            let dueMs = max(record.createdAtMs, record.runAtMs)
            handles(record.queue).waited.recordMilliseconds(max(0, nowMs - dueMs))
        case let state where state.isTerminal:
            let handles = handles(record.queue)
            handles.finished[state]?.increment()
            if old == .running, let startedMs = record.startedAtMs {
                handles.ran.recordMilliseconds(max(0, nowMs - startedMs))
            }
        default:
            break
        }
    }
}
