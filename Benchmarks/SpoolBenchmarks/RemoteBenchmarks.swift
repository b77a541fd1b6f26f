import Foundation
import GRPCH2
import NIOCore
import NIOPosix
import SpoolCore
import SpoolHandlers
import SpoolServer
import SpoolSQLite
import SpoolWire
import Synchronization

/// Remote workers against the in-process figure, in one run: no-op jobs end
/// to end in process (8 slots), then the same jobs run by a Swift worker
/// over a loopback gRPC stream (`spool.v1.Workers/Work`), then the time from
/// a unary Enqueue's answer to the worker receiving the job, on an idle
/// server.
func benchRemote(jobs: Int, capacity: Int) async throws {
    let inProcess = try await benchEndToEnd(jobs: jobs)

    let (path, store) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    var configuration = EngineConfiguration()
    configuration.remoteTypes = ["bench.noop": RemoteTypeConfiguration()]
    configuration.queueDefaults.concurrency = capacity
    configuration.subscriberBufferLimit = Int.max
    let clock = SystemClock()
    let engine = QueueEngine(configuration: configuration, store: store, clock: clock, handlers: BuiltinHandlers.all(clock: clock))
    try await engine.start()
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    var serverConfiguration = GRPCServer.Configuration()
    serverConfiguration.port = 0
    let server = try await SpoolServer.start(engine: engine, configuration: serverConfiguration, group: group)
    let worker = try await BenchWorker.connect(port: server.port, group: group, capacity: capacity)

    // Throughput: as in process, the jobs are enqueued in batches of 1000.
    let seconds = try await runToSuccess(jobs: jobs, of: "bench.noop", on: engine)
    let remote = Double(jobs) / seconds
    print("remote: end to end \(format(remote)) no-op jobs/s through one Swift worker over loopback gRPC "
          + "(capacity \(capacity), \(jobs) jobs in batches of 1000, \(format(seconds, 2)) s): "
          + "\(format(100 * remote / inProcess))% of the in-process \(format(inProcess)) jobs/s")

    // Latency: one job at a time, through a unary Enqueue over its own connection.
    let client = try await GRPCClient.connect(host: "127.0.0.1", port: server.port, group: group)
    var spec = JobSpec()
    spec.type = "bench.noop"
    let request = EnqueueRequest(job: spec).serializedBytes()
    var afterAnswer: [Double] = [], afterCall: [Double] = []
    worker.noteArrivals()
    for _ in 0..<2000 {
        let called = ContinuousClock.now
        let answer = try EnqueueResponse(serializedBytes: try await client.unary("/spool.v1.JobQueue/Enqueue", request: request))
        let answered = ContinuousClock.now
        let received = await worker.receipt(of: answer.job?.id ?? "")
        afterAnswer.append(microseconds(answered.duration(to: received)))
        afterCall.append(microseconds(called.duration(to: received)))
    }
    afterAnswer.sort()
    afterCall.sort()
    func percentile(_ values: [Double], _ p: Double) -> String { format(values[Int(Double(values.count - 1) * p)]) }
    print("remote: assignment latency on an idle server, Enqueue's answer → the worker has the job: median "
          + "\(percentile(afterAnswer, 0.5)) µs, p99 \(percentile(afterAnswer, 0.99)) µs; "
          + "from the Enqueue call: median \(percentile(afterCall, 0.5)) µs, p99 \(percentile(afterCall, 0.99)) µs "
          + "(\(afterAnswer.count) jobs one at a time; negative: the job reached the worker before the answer reached the caller)")
    await client.close()
    await worker.close()
    await server.shutdown(gracePeriod: .zero)
    try await group.shutdownGracefully()
}

private func microseconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) * 1e6 + Double(parts.attoseconds) / 1e12
}

/// A remote worker that answers every job at once with an empty result,
/// noting when each job arrived.
final class BenchWorker: Sendable {
    private struct State {
        var arrived: [String: ContinuousClock.Instant] = [:]
        var waiting: [String: CheckedContinuation<ContinuousClock.Instant, Never>] = [:]
        /// Only the jobs asked for are noted (not the throughput run's).
        var noting = false
    }

    private let client: GRPCClient
    private let reader: Mutex<Task<Void, any Error>?> = Mutex(nil)
    private let state = Mutex(State())

    private init(client: GRPCClient) { self.client = client }

    static func connect(port: Int, group: any EventLoopGroup, capacity: Int) async throws -> BenchWorker {
        let worker = BenchWorker(client: try await GRPCClient.connect(host: "127.0.0.1", port: port, group: group))
        let (requests, responses) = worker.client.streamingCall("/spool.v1.Workers/Work")
        requests.send(WorkerMessage(.hello(.init(name: "bench", types: ["bench.noop"], capacity: Int32(capacity))))
            .serializedBytes())
        let (welcomed, welcome) = AsyncStream.makeStream(of: Void.self)
        worker.reader.withLock {
            $0 = Task {
                for try await bytes in responses {
                    let command = try WorkerCommandMessage(serializedBytes: bytes)
                    switch command.body {
                    case .welcome: welcome.finish()
                    case .assign(let assignment):
                        let now = ContinuousClock.now
                        requests.send(WorkerMessage(.outcome(.init(assignment.lease, .result([])))).serializedBytes())
                        worker.arrived(assignment.lease.jobId, at: now)
                    default: break
                    }
                }
            }
        }
        for await _ in welcomed {}
        return worker
    }

    private func arrived(_ id: String, at instant: ContinuousClock.Instant) {
        let waiter = state.withLock { state -> CheckedContinuation<ContinuousClock.Instant, Never>? in
            if let waiter = state.waiting.removeValue(forKey: id) { return waiter }
            if state.noting { state.arrived[id] = instant }
            return nil
        }
        waiter?.resume(returning: instant)
    }

    /// From now on, when each job arrives is kept for `receipt(of:)`.
    func noteArrivals() {
        state.withLock { $0.noting = true }
    }

    /// When the job reached this worker (waiting for it if it has not yet).
    func receipt(of id: String) async -> ContinuousClock.Instant {
        await withCheckedContinuation { continuation in
            let arrived = state.withLock { state -> ContinuousClock.Instant? in
                if let instant = state.arrived.removeValue(forKey: id) { return instant }
                state.waiting[id] = continuation
                return nil
            }
            if let arrived { continuation.resume(returning: arrived) }
        }
    }

    func close() async {
        reader.withLock { $0 }?.cancel()
        await client.close()
    }
}
