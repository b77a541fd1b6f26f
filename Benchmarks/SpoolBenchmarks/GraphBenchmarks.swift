import Foundation
import SpoolCore
import SpoolHandlers

/// A JOBS-job graph (docs/workflows.md) on a real SQLite file: batches of
/// 10,000 items, each item waiting for its parent in a binary tree
/// (`depends_on_items`), each batch's root waiting for the batch before
/// (`depends_on_batches`). Prints the enqueue rate, the run to the last
/// SUCCEEDED, and beside it the same number of plain jobs in the same
/// batches: the difference per job is what a dependency costs.
func benchGraph(jobs: Int) async throws {
    let batchSize = 10_000
    let batches = max(1, jobs / batchSize)
    func graph(_ batch: Int, previous: String?) -> [JobRequest] {
        (0..<batchSize).map { index in
            var request = JobRequest(type: "spool.echo", payload: [1])
            if index > 0 { request.dependsOnItems = [(index - 1) / 2] } else if let previous { request.dependsOnBatches = [previous] }
            return request
        }
    }
    func plain(_ batch: Int, previous: String?) -> [JobRequest] {
        Array(repeating: JobRequest(type: "spool.echo", payload: [1]), count: batchSize)
    }
    for round in 1...2 {
        for (name, make) in [("plain", plain), ("graph", graph)] {
            let (engine, path) = try await pausedEngine { $0.maxBatchSize = batchSize }
            defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            let start = ContinuousClock.now
            var previous: String?
            for batch in 0..<batches {
                previous = try await engine.enqueue(make(batch, previous), batch: BatchOptions()).batchID
            }
            let enqueueSeconds = elapsed(since: start)
            let total = batches * batchSize
            let runSeconds = try await resumeAndRun(total, on: engine)
            print("graph (round \(round)): \(name) \(total) jobs: enqueued at \(format(Double(total) / enqueueSeconds)) jobs/s, "
                  + "run at \(format(Double(total) / runSeconds)) jobs/s (\(format(runSeconds * 1e6 / Double(total), 1)) µs a job, "
                  + "8 workers, synchronous=FULL)")
            await engine.shutdown(gracePeriodMs: 0)
        }
    }
}

/// A fair queue (`fair_by: tenant`) against a plain one: JOBS no-op jobs,
/// round-robin over TENANTS tenant label values, enqueued paused in batches
/// of 1000, then run by 8 workers. Prints both runs' rates, and the cost
/// of a position lookup in the fair queue.
func benchFair(jobs: Int, tenants: Int) async throws {
    for round in 1...2 {
        for fair in [false, true] {
            let (engine, path) = try await pausedEngine { if fair { $0.queueDefaults.fairBy = "tenant" } }
            defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            var last = ""
            for start in stride(from: 0, to: jobs, by: 1000) {
                let requests = (start..<min(jobs, start + 1000)).map { index in
                    var request = JobRequest(type: "spool.echo", payload: [1])
                    request.labels = ["tenant": "t\(index % tenants)"]
                    return request
                }
                last = try await engine.enqueue(requests, batchLabels: nil).items.last!.job.record.id
            }
            let lookups = 10_000
            let looking = ContinuousClock.now
            for _ in 0..<lookups { _ = try await engine.status(jobIDs: [last], onlySelected: true) }
            let lookupMicros = elapsed(since: looking) * 1e6 / Double(lookups)
            let seconds = try await resumeAndRun(jobs, on: engine)
            print("fair (round \(round)): \(fair ? "fair_by tenant" : "plain queue   ") \(jobs) jobs over \(tenants) tenants: "
                  + "run at \(format(Double(jobs) / seconds)) jobs/s (\(format(seconds * 1e6 / Double(jobs), 1)) µs a job, 8 workers); "
                  + "the last job's status \(format(lookupMicros, 1)) µs")
            await engine.shutdown(gracePeriodMs: 0)
        }
    }
}

/// An engine on a fresh SQLite file (synchronous=FULL) with 8 workers, its
/// default queue paused: the enqueue rate is measured alone, then the run.
private func pausedEngine(_ configure: (inout EngineConfiguration) -> Void) async throws -> (QueueEngine, path: String) {
    let (path, store) = try temporaryDatabase()
    let engine = try await startedEngine(on: store, configure)
    _ = try await engine.updateQueue("default", paused: true)
    return (engine, path)
}

/// Resumes the default queue and answers the seconds until `jobs` jobs SUCCEEDED.
private func resumeAndRun(_ jobs: Int, on engine: QueueEngine) async throws -> Double {
    let events = try await engine.subscribe(.queue("default"))
    let running = ContinuousClock.now
    _ = try await engine.updateQueue("default", paused: false)
    var succeeded = 0
    for try await event in events where event.kind == .state && event.job.record.state == .succeeded {
        succeeded += 1
        if succeeded == jobs { break }
    }
    return elapsed(since: running)
}
