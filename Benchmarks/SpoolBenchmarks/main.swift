// Spool's in-process benchmarks: each prints its figures; none is a test.
//
//   swift run -c release SpoolBenchmarks [ready-queue [JOBS] | wire [ITERATIONS] | engine [JOBS] | enqueues [JOBS] | store [JOBS] | status [JOBS] | list [JOBS] | remote [JOBS [CAPACITY]] | graph [JOBS] | fair [JOBS [TENANTS]] | stores [JOBS [ROUNDS]] | partitions [JOBS] | recover DATABASE]
import Foundation
import SpoolCore
import SpoolWire

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func residentBytes() -> Int {
    // /proc/self/statm: size resident shared … in pages.
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return (Int(fields[1]) ?? 0) * 4096
}

/// The ready queue at scale: insert JOBS waiting jobs with mixed priorities,
/// then time position lookups, dispatch (pop) and cancellation (remove) among them.
func benchReadyQueue(jobs: Int) {
    var generator: UInt64 = 0x2545_F491_4F6C_DD1D
    func random() -> UInt64 {
        generator ^= generator << 13
        generator ^= generator >> 7
        generator ^= generator << 17
        return generator
    }
    let keys = (0..<jobs).map { QueueKey(priority: Int32(random() % 10), seq: Int64($0)) }
    let rssBefore = residentBytes()
    var queue = ReadyQueue()
    let insert = seconds { for key in keys { queue.insert(key) } }
    let rssAfter = residentBytes()

    let lookups = 200_000
    let probes = (0..<lookups).map { _ in keys[Int(random() % UInt64(jobs))] }
    var checksum = 0
    let lookup = seconds { for key in probes { checksum &+= queue.position(of: key)! } }

    let removals = 100_000
    let removed = (0..<removals).map { _ in keys[Int(random() % UInt64(jobs))] }
    let remove = seconds { for key in removed { queue.remove(key) } }
    let pops = 100_000
    let pop = seconds { for _ in 0..<pops { _ = queue.popFirst() } }

    print("ready-queue: \(jobs) jobs inserted in \(String(format: "%.2f", insert)) s (\(Int(Double(jobs) / insert)) inserts/s)")
    print("ready-queue: position lookup \(String(format: "%.2f", lookup / Double(lookups) * 1e6)) µs at \(jobs) waiting jobs (checksum \(checksum))")
    print("ready-queue: remove \(String(format: "%.2f", remove / Double(removals) * 1e6)) µs, pop \(String(format: "%.2f", pop / Double(pops) * 1e6)) µs")
    print("ready-queue: \((rssAfter - rssBefore) / jobs) bytes of RSS per waiting job (the queue's share)")
}

/// The protobuf-c bridge's cost per message: decode and encode of the
/// smallest RPC messages and of a Job with every field set.
func benchWire(iterations: Int) {
    func perCall(_ body: () -> Void) -> String {
        String(format: "%.0f ns", seconds { for _ in 0..<iterations { body() } } / Double(iterations) * 1e9)
    }
    var sink = 0
    let emptyRequest: [UInt8] = []
    print("wire: decode empty HealthCheckRequest", perCall { sink &+= (try? HealthCheckRequest(serializedBytes: emptyRequest))?.service.utf8.count ?? 0 })
    print("wire: encode HealthCheckResponse", perCall { sink &+= HealthCheckResponse(status: .serving).serializedBytes().count })
    var job = Job()
    job.id = "0190a5b6-c7d8-7abc-8def-0123456789ab"
    (job.queue, job.type, job.state, job.attempt) = ("renders", "image.render", .running, 1)
    job.progress = JobProgress(fraction: 0.5, step: "denoise", message: "")
    job.labels = ["team": "vision"]
    let bytes = EnqueueResponse(job: job).serializedBytes()
    print("wire: encode EnqueueResponse with a Job", perCall { sink &+= EnqueueResponse(job: job).serializedBytes().count })
    print("wire: decode EnqueueResponse with a Job", perCall { sink &+= (try? EnqueueResponse(serializedBytes: bytes))?.job?.id.utf8.count ?? 0 })
    // A batch of 1000, as `scripts/bench-rpc.sh batch` sends and answers it; per job.
    var spec = JobSpec()
    (spec.type, spec.payload, spec.runAtMs) = ("spool.echo", Array("x".utf8), 4_000_000_000_000)
    let batchRequest = EnqueueBatchRequest(jobs: Array(repeating: spec, count: 1000)).serializedBytes()
    let batchResponse = EnqueueBatchResponse(
        batchId: job.id, jobs: Array(repeating: EnqueuedJob(id: job.id, state: .queued), count: 1000))
    let batches = max(1, iterations / 1000)
    func perJob(_ body: () -> Void) -> String {
        String(format: "%.0f ns", seconds { for _ in 0..<batches { body() } } / Double(batches * 1000) * 1e9)
    }
    print("wire: decode EnqueueBatchRequest of 1000, per job", perJob { sink &+= (try? EnqueueBatchRequest(serializedBytes: batchRequest))?.jobs.count ?? 0 })
    print("wire: encode EnqueueBatchResponse of 1000, per job", perJob { sink &+= batchResponse.serializedBytes().count })
    print("wire: (checksum \(sink))")
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first ?? "ready-queue" {
case "ready-queue":
    benchReadyQueue(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000_000)
case "wire":
    benchWire(iterations: arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000_000)
case "engine":
    try await benchEngine(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000_000)
case "enqueues":
    try await benchSingleEnqueues(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 200_000)
case "store":
    try await benchStore(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 200_000)
case "list":
    try await benchList(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000_000)
case "status":
    try await benchStatus(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000_000)
case "remote":
    try await benchRemote(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 200_000,
                          capacity: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 64)
case "graph":
    try await benchGraph(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000)
case "fair":
    try await benchFair(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000,
                        tenants: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 10_000)
case "stores":
    try await benchStores(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000,
                          rounds: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 2)
case "partitions":
    try await benchPartitions(jobs: arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000, counts: [1, 2, 4])
case "recover" where arguments.count == 2:
    try await benchRecovery(path: arguments.last!)
default:
    print("usage: SpoolBenchmarks [ready-queue [JOBS] | wire [ITERATIONS] | engine [JOBS] | enqueues [JOBS] | store [JOBS] | status [JOBS] | list [JOBS] | remote [JOBS [CAPACITY]] | graph [JOBS] | fair [JOBS [TENANTS]] | stores [JOBS [ROUNDS]] | partitions [JOBS] | recover DATABASE]")
}
