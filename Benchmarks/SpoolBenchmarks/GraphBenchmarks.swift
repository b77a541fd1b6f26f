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
            let (path, store) = try temporaryDatabase()
            defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            var configuration = EngineConfiguration()
            configuration.workers = 8
            configuration.queueDefaults.concurrency = 8
            configuration.maxBatchSize = batchSize
            configuration.subscriberBufferLimit = Int.max
            let clock = SystemClock()
            let engine = QueueEngine(configuration: configuration, store: store, clock: clock,
                                     handlers: BuiltinHandlers.all(clock: clock))
            try await engine.start()
            // Paused while it is enqueued: the enqueue rate alone, then the run alone.
            _ = try await engine.updateQueue("default", paused: true)
            let start = ContinuousClock.now
            var previous: String?
            for batch in 0..<batches {
                previous = try await engine.enqueue(make(batch, previous), batch: BatchOptions()).batchID
            }
            let enqueueSeconds = elapsed(since: start)
            let total = batches * batchSize
            let events = try await engine.subscribe(.queue("default"))
            let running = ContinuousClock.now
            _ = try await engine.updateQueue("default", paused: false)
            var succeeded = 0
            for try await event in events where event.kind == .state && event.job.record.state == .succeeded {
                succeeded += 1
                if succeeded == total { break }
            }
            let runSeconds = elapsed(since: running)
            print("graph (round \(round)): \(name) \(total) jobs: enqueued at \(format(Double(total) / enqueueSeconds)) jobs/s, "
                  + "run at \(format(Double(total) / runSeconds)) jobs/s (\(format(runSeconds * 1e6 / Double(total), 1)) µs a job, "
                  + "8 workers, synchronous=FULL)")
            await engine.shutdown(gracePeriodMs: 0)
        }
    }
}
