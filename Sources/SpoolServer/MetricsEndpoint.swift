import CoreMetrics
import Prometheus
import SpoolCore

/// `/metrics` (docs/http.md: Metrics): the Prometheus registry that
/// swift-metrics reports to (jobs finished, wait and run times, RPCs,
/// SQLite commits), plus gauges of what is now, read from the engine's
/// status at each scrape.
public struct MetricsEndpoint: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// A swift-metrics backend on `registry`, with buckets fitted to what
    /// each histogram times. `MetricsSystem.bootstrap` it once, before the
    /// engine and the store are made.
    public func factory() -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        let jobs: [Duration] = [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1),
                                .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900),
                                .seconds(3600)]
        let rpcs: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(10)]
        factory.durationHistogramBuckets = [
            "spool_job_wait_seconds": jobs,
            "spool_job_run_seconds": jobs,
            "grpc_server_handling_seconds": rpcs,
            "spool_sqlite_commit_seconds": [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                                            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                            .milliseconds(100), .milliseconds(250), .seconds(1)],
        ]
        return factory
    }

    /// Sets the gauges from the engine's status, then renders everything.
    func scrape(_ engine: QueueEngine) async throws -> [UInt8] {
        let status = try await engine.status()
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
            let descriptor = MetricNameDescriptor(namespace: "spool", metricName: name, unitName: "", helpText: help)
            registry.makeGauge(descriptor: descriptor, labels: labels).set(value)
        }
        for queue in status.queues {
            for state in [JobState.blocked, .scheduled, .queued, .running] {
                gauge("queue_jobs", "Unfinished jobs by queue and state.",
                      [("queue", queue.name), ("state", "\(state)")], Double(queue.counts[state]))
            }
            gauge("queue_concurrency", "Most jobs of the queue running at once.", [("queue", queue.name)],
                  Double(queue.concurrency))
            gauge("queue_finished_last_minute", "Jobs of the queue finished over the last minute.", [("queue", queue.name)],
                  Double(queue.throughputPerMinute))
        }
        for limiter in status.rateLimiters {
            let key = [("key", limiter.key)]
            gauge("rate_limiter_tokens", "Tokens in the limiter's bucket now.", key, limiter.tokens)
            gauge("rate_limiter_rate_per_second", "The limiter's rate now (lower after a 429 answer).", key,
                  limiter.ratePerSecond)
            gauge("rate_limiter_configured_rate_per_second", "The limiter's configured rate.", key,
                  limiter.configuredRatePerSecond)
        }
        for lock in status.locks {
            let key = [("key", lock.key)]
            gauge("lock_holders", "Jobs holding the lock key.", key, Double(lock.holders.count))
            gauge("lock_waiters", "Jobs waiting for the lock key.", key, Double(lock.waiters))
            gauge("lock_capacity", "Jobs that may hold the lock key at once.", key, Double(lock.capacity))
        }
        gauge("workers", "spoold's own worker slots.", [], Double(status.workers.count))
        gauge("workers_busy", "spoold's worker slots running a job.", [], Double(status.workers.filter { $0.jobID != nil }.count))
        gauge("remote_workers", "Connected remote workers.", [], Double(status.remoteWorkers.count))
        gauge("remote_worker_capacity", "Jobs the connected remote workers may run at once.", [],
              Double(status.remoteWorkers.reduce(0) { $0 + $1.capacity }))
        gauge("remote_worker_jobs", "Jobs running on remote workers.", [],
              Double(status.remoteWorkers.reduce(0) { $0 + $1.jobIDs.count }))
        gauge("progress_streams", "Open progress streams (gRPC and HTTP events).", [], Double(status.progressStreams))
        gauge("progress_stream_buffered_bytes", "Bytes of events the progress streams hold unsent.", [],
              Double(status.progressStreamBytes))
        gauge("enqueue_streams", "Open EnqueueStream calls.", [], Double(EnqueueStreamCall.openCalls.load(ordering: .relaxed)))
        gauge("enqueue_stream_jobs_in_flight",
              "Jobs of EnqueueStream calls read and not yet answered (at most 1,024 a call; then it stops reading).", [],
              Double(EnqueueStreamCall.jobsInFlight.load(ordering: .relaxed)))
        return registry.emitToBuffer()
    }
}
