import Foundation
import SpoolCore
@testable import SpoolSQLite
import Testing

/// Each store's `jobs(matching:)`, and its other settings, against the plain filter of every job
/// (`JobQuery.matches`), over generated jobs and queries, page by page.
@Suite(.timeLimit(.minutes(2)))
struct JobListingTests {

    /// 600 jobs over 3 queues, 2 types, every state, 2 batches, up to 2 labels.
    private static func jobs() -> [JobRecord] {
        var ids = JobIDGenerator(seed: 42)
        return (1...600).map { seq in
            let n = Int(seq)
            var record = JobRecord(
                id: ids.next(nowMs: 1_000 + Int64(seq) * 10, seq: Int64(seq)), seq: Int64(seq),
                queue: ["a", "b", "c"][n % 3], type: ["t1", "t2"][n % 7 == 0 ? 1 : 0],
                state: JobState.allCases[(n * 5) % 6], maxAttempts: 3, timeoutMs: 1_000, runAtMs: 0,
                batchId: n % 11 == 0 ? "b1" : (n > 500 ? "b2" : nil),
                labels: n % 4 == 0 ? ["repo": "r\(n % 8)", "team": "x"] : (n % 5 == 0 ? ["repo": "r0"] : [:]),
                createdAtMs: 1_000 + Int64(seq) * 10)
            if record.state.isTerminal { record.finishedAtMs = record.createdAtMs + 5 }
            return record
        }
    }

    private static let queries: [JobQuery] = {
        var queries: [JobQuery] = []
        func add(_ body: (inout JobQuery) -> Void) {
            for oldest in [false, true] {
                for size in [1, 7, 50, 1000] {
                    var query = JobQuery()
                    body(&query)
                    query.oldestFirst = oldest
                    query.pageSize = size
                    queries.append(query)
                }
            }
        }
        add { _ in }
        add { $0.queue = "b" }
        add { $0.queue = "a"; $0.states = [.failed, .queued] }
        add { $0.states = [.cancelled] }
        add { $0.type = "t2" }
        add { $0.type = "t1"; $0.states = [.succeeded] }
        add { $0.batchID = "b1" }
        add { $0.batchID = "b2"; $0.states = [.running, .scheduled] }
        add { $0.labels = ["repo": "r0"] }
        add { $0.labels = ["repo": "r4", "team": "x"] }
        add { $0.labels = ["team": "x"]; $0.states = [.failed] }
        add { $0.labels = ["repo": "r0"]; $0.queue = "c" }
        add { $0.createdAfterMs = 3_000; $0.createdBeforeMs = 4_005 }
        add { $0.createdAfterMs = 5_990 }
        add { $0.queue = "a"; $0.createdBeforeMs = 2_000; $0.states = [.queued] }
        add { $0.labels = ["repo": "none"] }
        add { $0.queue = "nope" }
        add { $0.batchID = "nope" }
        return queries
    }()

    @Test(arguments: StoreKind.available)
    func everyPageIsWhatAPlainFilterOfEveryJobGives(kind: StoreKind) async throws {
        let store = try await kind.open()
        let jobs = Self.jobs()
        _ = try await store.insert(jobs.map { NewJob($0, payload: []) })
        for query in Self.queries {
            let expected = jobs.filter(query.matches).sorted { query.oldestFirst ? $0.seq < $1.seq : $0.seq > $1.seq }
            var seen: [JobRecord] = []
            var page = query
            var pages = 0
            while true {
                let answer = try await store.jobs(matching: page)
                #expect(answer.total == expected.count, "\(query)")
                #expect(answer.jobs.count <= query.pageSize)
                seen += answer.jobs
                pages += 1
                guard let next = answer.nextAfterSeq, pages <= 700 else { break }
                page.afterSeq = next
                page.knownTotal = answer.total
            }
            #expect(seen.map(\.seq) == expected.map(\.seq), "\(query)")
            #expect(seen == expected)
        }
    }

    @Test(arguments: StoreKind.available)
    func aPrunedJobsLabelsGoWithItAndUpdatesKeepThem(kind: StoreKind) async throws {
        let store = try await kind.open()
        var job = JobRecord(id: "0190a5b6-c7d8-7abc-8def-0123456789ab", seq: 1, queue: "q", type: "t", state: .queued,
                            maxAttempts: 1, timeoutMs: 0, runAtMs: 0, labels: ["repo": "x"], createdAtMs: 1)
        _ = try await store.insert([NewJob(job, payload: [])])
        var query = JobQuery()
        query.labels = ["repo": "x"]
        #expect(try await store.jobs(matching: query).total == 1)
        job.state = .succeeded
        job.finishedAtMs = 2
        try await store.update([job])
        #expect(try await store.jobs(matching: query).jobs.map(\.state) == [.succeeded])
        #expect(try await store.pruneFinished(beforeMs: 10, limit: 10) == 1)
        #expect(try await store.jobs(matching: query).total == 0)
    }

    @Test(arguments: StoreKind.available)
    func queueSettingsAreKeptAndDamagedValuesDropped(kind: StoreKind) async throws {
        let store = try await kind.open()
        #expect(try await store.queueOverrides().isEmpty)
        let settings = QueueOverride(paused: true, concurrency: 3, rateLimit: .some(RateLimit(ratePerSecond: 2.5, burst: 4)))
        try await store.save(settings, forQueue: "renders")
        try await store.save(QueueOverride(rateLimit: .some(nil)), forQueue: "crawls")
        #expect(try await store.queueOverrides() == ["renders": settings, "crawls": QueueOverride(rateLimit: .some(nil))])
        try await store.save(QueueOverride(), forQueue: "renders")
        #expect(try await store.queueOverrides().keys.sorted() == ["crawls"])
        #expect(QueueOverride(storedPaused: false, concurrency: 0, rateSet: true, perSecond: -1, burst: .nan) == QueueOverride())
        #expect(QueueOverride(storedPaused: true, concurrency: 5, rateSet: true, perSecond: 1, burst: 1e300)
                == QueueOverride(paused: true, concurrency: 5, rateLimit: .some(RateLimit(ratePerSecond: 1, burst: nil))))
    }
}
