import Foundation
import Testing
import SpoolCore
import SpoolSQLite

/// The `JobStore` contract: every test runs against each store
/// (`StoreKind.available`), SQLite and PostgreSQL.
private func record(_ seq: Int64, state: JobState = .queued, key: String? = nil) -> JobRecord {
    JobRecord(id: "job-\(seq)", seq: seq, queue: "default", type: "spool.echo", state: state,
              idempotencyKey: key, maxAttempts: 3, timeoutMs: 1_000, runAtMs: 0, createdAtMs: 1_000 + seq)
}

@Suite(.timeLimit(.minutes(1)))
struct JobStoreContractTests {
    @Test(arguments: StoreKind.available)
    func everyFieldSurvivesAReopenAndPayloadsStayInTheStore(kind: StoreKind) async throws {
        let place = try kind.place()
        var full = JobRecord(
            id: "0190a5b6-c7d8-7abc-8def-0123456789ab", seq: 7, queue: "renders", type: "image.render",
            priority: -2, state: .running, idempotencyKey: "req-1", lockKeys: ["gpu", "with\nnewline"],
            rateKey: "openai", maxAttempts: 5, timeoutMs: 60_000, runAtMs: 123, batchId: "b1",
            labels: ["team": "vision", "": "empty key"], createdAtMs: 1_000)
        full.attempt = 2
        full.progress = JobRecord.Progress(fraction: 0.25, step: "denoise", message: "pass 1")
        full.result = [1, 2]
        full.failure = JobRecord.Failure(code: "timeout", message: "too slow", retryable: true)
        full.startedAtMs = 1_100
        full.updatedAtMs = 1_200
        full.expireAtMs = 90_000
        full.dependencies = .init(jobs: ["a", "b"], batches: ["c"], runIfFailed: true)
        full.dependencySummary = #"{"batches":[]}"#
        full.rateCost = 7
        do {
            let store = try await place.open()
            #expect(try await store.insert([NewJob(full, payload: [9, 8, 7])]) == [.inserted])
        }
        let reopened = try await place.open()
        #expect(try await reopened.job(id: full.id) == full)
        #expect(try await reopened.payload(ofJobSeq: full.seq) == [9, 8, 7])
        #expect(try await reopened.payload(ofJobSeq: 8) == nil)
        #expect(try await reopened.lastSeq() == 7)
    }

    @Test(arguments: StoreKind.available)
    func blockedJobsAreUnfinishedAndABatchIsFoundByItsKey(kind: StoreKind) async throws {
        let store = try await kind.open()
        var blocked = record(1, state: .blocked)
        blocked.dependencies = .init(jobs: ["job-9"])
        blocked.batchId = "b1"
        var keyed = NewJob(blocked, payload: [])
        keyed.batchKey = "fanout"
        var second = record(2)
        second.batchId = "b1"
        #expect(try await store.insert([keyed, NewJob(second, payload: []), NewJob(record(3, state: .succeeded), payload: [])])
                == [.inserted, .inserted, .inserted])
        #expect(try await store.unfinishedJobs().map(\.seq).sorted() == [1, 2])
        #expect(try await store.unfinishedJobCount() == 2)
        #expect(try await store.unfinishedJobs().first { $0.seq == 1 }?.dependencies == .init(jobs: ["job-9"]))
        #expect(try await store.stateCountsOfUnfinishedBatches()["b1"]?[.blocked] == 1)
        #expect(try await store.batch(idempotencyKey: "fanout") == KeyedBatch(id: "b1", size: 2))
        #expect(try await store.batch(idempotencyKey: "other") == nil)
    }

    @Test(arguments: StoreKind.available)
    func unfinishedJobsComeBackInChunksWithoutTerminalOnes(kind: StoreKind) async throws {
        let store = try await kind.open()
        let states: [JobState] = [.running, .succeeded, .scheduled, .failed, .queued, .cancelled, .queued]
        let jobs = states.enumerated().map { NewJob(record(Int64(10 - $0.offset), state: $0.element), payload: []) }
        _ = try await store.insert(jobs)
        #expect(try await store.unfinishedJobCount() == 4)
        var chunks: [[Int64]] = []
        for try await chunk in store.unfinishedJobs(chunkSize: 3) { chunks.append(chunk.map(\.seq)) }
        #expect(chunks.map(\.count) == [3, 1])
        #expect(chunks.joined().sorted() == [4, 6, 8, 10])
    }

    @Test(arguments: StoreKind.available)
    func aBatchsJobsAndCountsByStateAreRead(kind: StoreKind) async throws {
        let store = try await kind.open()
        var jobs = [record(1), record(2, state: .succeeded), record(3, state: .succeeded), record(4)]
        for index in 0..<3 { jobs[index].batchId = "b" }
        _ = try await store.insert(jobs.map { NewJob($0, payload: []) })
        #expect(try await store.jobs(inBatch: "b").map(\.seq) == [1, 2, 3])
        let counts = try await store.stateCounts(ofBatch: "b")
        #expect(counts[.succeeded] == 2 && counts[.queued] == 1 && counts.total == 3)
        #expect(try await store.stateCounts(ofBatch: "none").total == 0)
    }

    @Test(arguments: StoreKind.available)
    func theCountsOfEveryBatchWithUnfinishedJobsAreReadAtOnce(kind: StoreKind) async throws {
        let store = try await kind.open()
        var jobs = [record(1), record(2, state: .succeeded), record(3, state: .failed), record(4, state: .succeeded), record(5)]
        (jobs[0].batchId, jobs[1].batchId, jobs[2].batchId) = ("open", "open", "open")
        jobs[3].batchId = "finished"
        _ = try await store.insert(jobs.map { NewJob($0, payload: []) })
        let counts = try await store.stateCountsOfUnfinishedBatches()
        #expect(Array(counts.keys) == ["open"])
        #expect(counts["open"]?[.queued] == 1 && counts["open"]?[.succeeded] == 1 && counts["open"]?[.failed] == 1)
    }

    @Test(arguments: StoreKind.available)
    func aBatchsJobsAreFoundByTheRangeOfTheirSeqsWithoutAnIndexEntryEach(kind: StoreKind) async throws {
        let place = try kind.place()
        let store = try await place.open()
        // Batch "a" stored by two calls, with jobs of other batches and of
        // none inside its range; a duplicate does not widen it.
        func job(_ seq: Int64, _ batch: String?, key: String? = nil) -> NewJob {
            var job = record(seq, key: key)
            job.batchId = batch
            return NewJob(job, payload: [])
        }
        _ = try await store.insert([job(1, "a"), job(2, nil), job(3, "b"), job(4, "a")])
        _ = try await store.insert(calls: [[job(5, "a"), job(6, "a", key: "k")], [job(7, "c"), job(8, "c", key: "k")]])
        #expect(try await store.jobs(inBatch: "a").map(\.seq) == [1, 4, 5, 6])
        #expect(try await store.jobs(inBatch: "b").map(\.seq) == [3])
        #expect(try await store.jobs(inBatch: "c").map(\.seq) == [7])
        #expect(try await store.stateCounts(ofBatch: "a")[.queued] == 4)
        #expect(try await store.stateCountsOfUnfinishedBatches().mapValues(\.total) == ["a": 4, "b": 1, "c": 1])
        guard case .sqlite(let path) = place else { return }
        let database = try SQLiteDatabase(path: path)
        let ranges = try database.prepare("SELECT group_concat(id || ':' || first_seq || '-' || last_seq, ' ') FROM batches")
        #expect(try ranges.step() && ranges.text(0) == "a:1-6 b:3-3 c:7-7")
        let batchIndexes = try database.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND sql LIKE '%batch_id%'")
        #expect(try batchIndexes.step() && batchIndexes.integer(0) == 0)
    }

    @Test(arguments: StoreKind.available)
    func pruningForgetsTheRangesOfBatchesWhoseJobsAreAllGone(kind: StoreKind) async throws {
        let place = try kind.place()
        let store = try await place.open()
        var jobs = (1...4).map { seq in
            var job = record(Int64(seq), state: .succeeded)
            job.finishedAtMs = Int64(seq) * 100
            job.batchId = seq <= 2 ? "old" : "new"
            return job
        }
        jobs[3].state = .running
        jobs[3].finishedAtMs = nil
        _ = try await store.insert(jobs.map { NewJob($0, payload: []) })
        #expect(try await store.pruneFinished(beforeMs: 1_000, limit: 10) == 3)
        #expect(try await store.jobs(inBatch: "new").map(\.seq) == [4])
        #expect(try await store.stateCounts(ofBatch: "old").total == 0)
        guard case .sqlite(let path) = place else { return }
        let batches = try SQLiteDatabase(path: path).prepare("SELECT group_concat(id) FROM batches")
        #expect(try batches.step() && batches.text(0) == "new")
    }

    @Test(arguments: StoreKind.available)
    func concurrentWritesShareCommits(kind: StoreKind) async throws {
        let store = try await kind.open()
        try await withThrowingTaskGroup(of: [InsertOutcome].self) { group in
            for seq in 1...200 {
                group.addTask { try await store.insert([NewJob(record(Int64(seq)), payload: [UInt8(seq % 256)])]) }
            }
            for try await outcome in group { #expect(outcome == [.inserted]) }
        }
        #expect(try await store.unfinishedJobs().count == 200)
        #expect(StoreKind.commitCount(of: store) < 200, "each fsync should carry many writes (\(StoreKind.commitCount(of: store)) commits)")
    }

    @Test(arguments: StoreKind.available)
    func aTakenIdempotencyKeyAnswersItsHolder(kind: StoreKind) async throws {
        let store = try await kind.open()
        #expect(try await store.insert([NewJob(record(1, key: "k"), payload: [])]) == [.inserted])
        let outcome = try await store.insert([NewJob(record(2, key: "k"), payload: []), NewJob(record(3), payload: [])])
        #expect(outcome == [.duplicate(of: "job-1"), .inserted])
        #expect(try await store.job(id: "job-2") == nil)
    }

    @Test(arguments: StoreKind.available)
    func aFailingCallStoresNoneOfItsJobsAndDoesNotUndoOthers(kind: StoreKind) async throws {
        let store = try await kind.open()
        let failing = Task { try await store.insert([NewJob(record(1), payload: []), NewJob(record(1), payload: [])]) }  // same id twice
        let fine = Task { try await store.insert([NewJob(record(2), payload: [])]) }
        await #expect(throws: (any Error).self) { try await failing.value }
        #expect(try await fine.value == [.inserted])
        #expect(try await store.unfinishedJobs().map(\.seq) == [2])
    }

    @Test(arguments: StoreKind.available)
    func callsStoredTogetherEachSucceedOrFailAlone(kind: StoreKind) async throws {
        let store = try await kind.open()
        let results = try await store.insert(calls: [
            [NewJob(record(1), payload: [])],
            [NewJob(record(2), payload: []), NewJob(record(2), payload: [])],  // same seq twice: this call fails
            [NewJob(record(3, key: "k"), payload: []), NewJob(record(4, key: "k"), payload: [])],
        ])
        #expect(try results[0].get() == [.inserted])
        #expect(throws: (any Error).self) { try results[1].get() }
        #expect(try results[2].get() == [.inserted, .duplicate(of: "job-3")])
        #expect(try await store.unfinishedJobs().map(\.seq).sorted() == [1, 3])
        #expect(StoreKind.commitCount(of: store) == 1)
    }

    @Test(arguments: StoreKind.available)
    func singleJobCallsWithoutSavepointsStillSucceedOrFailAlone(kind: StoreKind) async throws {
        // Jobs whose ids carry their seqs, as the engine makes them: a call
        // of one such job is one INSERT, stored without a savepoint.
        let store = try await kind.open()
        var ids = JobIDGenerator(seed: 3)
        func job(_ seq: Int64, key: String? = nil) -> NewJob {
            var job = record(seq, key: key)
            job.jobID = ids.next(nowMs: 1_000, seq: seq)
            return NewJob(job, payload: [UInt8(seq)])
        }
        let first = job(1, key: "k")
        let results = try await store.insert(calls: [
            [first], [job(2)], [job(2)],  // the second seq 2 fails on the primary key
            [job(3, key: "k")], [job(4)],
        ])
        #expect(try results[0].get() == [.inserted])
        #expect(try results[1].get() == [.inserted])
        #expect(throws: (any Error).self) { try results[2].get() }
        #expect(try results[3].get() == [.duplicate(of: first.record.id)])
        #expect(try results[4].get() == [.inserted])
        #expect(try await store.unfinishedJobs().map(\.seq).sorted() == [1, 2, 4])
        #expect(try await store.payload(ofJobSeq: 2) == [2])
        #expect(StoreKind.commitCount(of: store) == 1)
    }

    @Test(arguments: StoreKind.available)
    func singleJobCallsShareMultiRowInsertsAndStillFailAlone(kind: StoreKind) async throws {
        // Forty unary Enqueues in one commit go sixteen to a statement; the
        // statement holding the bad one fails whole, and its calls are
        // stored again one by one.
        let store = try await kind.open()
        var ids = JobIDGenerator(seed: 4)
        let calls = (1...40).map { seq -> [NewJob] in
            var job = record(seq == 21 ? 20 : Int64(seq))  // call 21 repeats seq 20
            job.jobID = ids.next(nowMs: 1_000, seq: job.seq)
            return [NewJob(job, payload: [UInt8(seq)])]
        }
        let results = try await store.insert(calls: calls)
        for (index, result) in results.enumerated() {
            if index == 20 {
                #expect(throws: (any Error).self) { try result.get() }
            } else {
                #expect(try result.get() == [.inserted])
            }
        }
        #expect(try await store.unfinishedJobs().map(\.seq).sorted() == (1...40).filter { $0 != 21 }.map(Int64.init))
        #expect(try await store.payload(ofJobSeq: 20) == [20])
        #expect(try await store.payload(ofJobSeq: 22) == [22])
        #expect(StoreKind.commitCount(of: store) == 1)
    }

    @Test(arguments: StoreKind.available)
    func aLongCallStoresRunsOfPlainJobsSeveralToAStatementAndTheOthersOneByOne(kind: StoreKind) async throws {
        let store = try await kind.open()
        #expect(try await store.insert([NewJob(record(1, key: "taken"), payload: [])]) == [.inserted])
        var generator = JobIDGenerator(seed: 5)
        let jobs = (2...60).map { seq -> NewJob in
            var job = record(Int64(seq), key: seq == 7 ? "taken" : seq == 30 ? "fresh" : nil)
            if seq != 41 { job.jobID = generator.next(nowMs: 1_000, seq: Int64(seq)) }  // 41 keeps "job-41"
            return NewJob(job, payload: [UInt8(seq)])
        }
        let outcomes = try await store.insert(jobs)
        #expect(outcomes.count == 59)
        #expect(outcomes[7 - 2] == .duplicate(of: "job-1"))
        #expect(outcomes.enumerated().allSatisfy { $0.offset == 7 - 2 || $0.element == .inserted })
        for job in jobs where job.record.seq != 7 {
            #expect(try await store.job(id: job.record.id) == job.record)
            #expect(try await store.payload(ofJobSeq: job.record.seq) == [UInt8(job.record.seq)])
        }
        #expect(try await store.unfinishedJobCount() == 59)
    }

    @Test(arguments: StoreKind.available)
    func updatesSaveWhatAJobsLifeChanges(kind: StoreKind) async throws {
        let store = try await kind.open()
        var job = record(1)
        _ = try await store.insert([NewJob(job, payload: [])])
        job.state = .succeeded
        job.attempt = 1
        job.progress = JobRecord.Progress(fraction: 1, step: "done")
        job.result = Array("ok".utf8)
        job.startedAtMs = 2_000
        job.finishedAtMs = 3_000
        job.updatedAtMs = 3_000
        try await store.update([job])
        #expect(try await store.job(id: job.id) == job)
        #expect(try await store.unfinishedJobs().isEmpty)
        // A retry clears a start deadline: that is a change too.
        var expiring = record(2)
        expiring.expireAtMs = 5_000
        _ = try await store.insert([NewJob(expiring, payload: [])])
        #expect(try await store.job(id: expiring.id)?.expireAtMs == 5_000)
        expiring.expireAtMs = nil
        try await store.update([expiring])
        #expect(try await store.job(id: expiring.id) == expiring)
    }

    @Test(arguments: StoreKind.available)
    func pruningDeletesOnlyOldTerminalJobsOldestFirstUpToTheLimit(kind: StoreKind) async throws {
        let store = try await kind.open()
        var jobs: [JobRecord] = []
        for seq in 1...5 {
            var job = record(Int64(seq), state: .succeeded)
            job.finishedAtMs = Int64(seq) * 100
            jobs.append(job)
        }
        var running = record(6, state: .running)
        running.finishedAtMs = nil
        _ = try await store.insert((jobs + [running]).map { NewJob($0, payload: []) })
        #expect(try await store.pruneFinished(beforeMs: 450, limit: 2) == 2)    // 100 and 200
        #expect(try await store.job(id: "job-1") == nil)
        #expect(try await store.job(id: "job-3") != nil)
        #expect(try await store.pruneFinished(beforeMs: 450, limit: 10) == 2)   // 300 and 400
        #expect(try await store.job(id: "job-5") != nil)
        #expect(try await store.job(id: "job-6") != nil)
    }

    @Test(arguments: StoreKind.available)
    func aJobIsFoundByAnIdThatCarriesItsSeqWithoutAnyIndexOfIds(kind: StoreKind) async throws {
        let place = try kind.place()
        let store = try await place.open()
        var generator = JobIDGenerator(seed: 3)
        let jobs = (1...3).map { seq in
            var job = record(Int64(seq))
            job.jobID = generator.next(nowMs: 1_000, seq: Int64(seq))
            return job
        }
        _ = try await store.insert(jobs.map { NewJob($0, payload: []) } + [NewJob(record(4), payload: [])])
        for job in jobs { #expect(try await store.job(id: job.id) == job) }
        #expect(try await store.job(id: "job-4")?.seq == 4)
        // Another job's id with this job's seq finds nothing.
        #expect(try await store.job(id: generator.next(nowMs: 1_000, seq: 2).text) == nil)
        guard case .sqlite(let path) = place else { return }
        let others = try SQLiteDatabase(path: path).prepare("SELECT group_concat(id) FROM other_job_ids")
        #expect(try others.step() && others.text(0) == "job-4")
    }

    @Test(arguments: StoreKind.available)
    func aKeyTakenByAnEarlierCallOfTheSameCommitAnswersThatCallsJob(kind: StoreKind) async throws {
        let store = try await kind.open()
        let results = try await store.insert(calls: [[NewJob(record(1, key: "k"), payload: [])], [NewJob(record(2, key: "k"), payload: [])]])
        #expect(try results[0].get() == [.inserted])
        #expect(try results[1].get() == [.duplicate(of: "job-1")])
    }

    @Test(arguments: StoreKind.available)
    func scheduleFiresAreKeptAndReplaced(kind: StoreKind) async throws {
        let place = try kind.place()
        let store = try await place.open()
        #expect(try await store.scheduleRecords().isEmpty)
        try await store.save(ScheduleRecord(lastFireMs: 1_000, lastJobID: "job-1"), forSchedule: "nightly")
        try await store.save(ScheduleRecord(lastFireMs: 2_000, lastJobID: nil), forSchedule: "hourly")
        try await store.save(ScheduleRecord(lastFireMs: 3_000, lastJobID: "job-3"), forSchedule: "nightly")
        #expect(try await place.open().scheduleRecords() == [
            "nightly": ScheduleRecord(lastFireMs: 3_000, lastJobID: "job-3"), "hourly": ScheduleRecord(lastFireMs: 2_000, lastJobID: nil),
        ])
    }

    @Test(arguments: StoreKind.available)
    func listsKeepEveryCharacterTheWireAllows(kind: StoreKind) async throws {
        let store = try await kind.open()
        let awkward = ["a\"b", "c\\d", "{x,y}", "é🙂", "NULL", "", " \t\r\n", "[\"json\"]", "\u{7}"]
        var job = record(1)
        job.lockKeys = awkward
        job.labels = Dictionary(uniqueKeysWithValues: awkward.map { ($0, $0 + "!") })
        job.dependencies = .init(jobs: awkward, batches: awkward.reversed(), runIfFailed: false)
        job.idempotencyKey = "k\"{}"
        _ = try await store.insert([NewJob(job, payload: [0, 255])])
        #expect(try await store.job(id: job.id) == job)
        var query = JobQuery()
        query.labels = ["{x,y}": "{x,y}!"]
        #expect(try await store.jobs(matching: query).jobs.map(\.seq) == [1])
    }

    @Test(arguments: StoreKind.available)
    func keysTakenBeforeAndWithinOneCommitOfPlainJobsAnswerTheirHolders(kind: StoreKind) async throws {
        // Ids that carry their seqs and no batch: PostgreSQL writes such a
        // commit in one statement and finds the holders in it.
        let store = try await kind.open()
        var ids = JobIDGenerator(seed: 11)
        func job(_ seq: Int64, key: String?) -> NewJob {
            var job = record(seq, key: key)
            job.jobID = ids.next(nowMs: 1_000, seq: seq)
            return NewJob(job, payload: [UInt8(seq)])
        }
        let first = job(1, key: "k1")
        #expect(try await store.insert([first]) == [.inserted])
        let c = job(3, key: "k2")
        let results = try await store.insert(calls: [[job(2, key: "k1")], [c], [job(4, key: "k2")], [job(5, key: nil)]])
        #expect(try results.map { try $0.get() } == [[.duplicate(of: first.record.id)], [.inserted], [.duplicate(of: c.record.id)], [.inserted]])
        #expect(try await store.unfinishedJobs().map(\.seq).sorted() == [1, 3, 5])
        #expect(try await store.payload(ofJobSeq: 5) == [5])
    }
}
