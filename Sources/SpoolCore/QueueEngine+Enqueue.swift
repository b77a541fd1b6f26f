// Accepting jobs (docs/design.md §3, §5). Concurrent enqueue calls share the
// actor's turns and store writes: a call waits in the inbox until the actor
// takes in every waiting call at once; calls that arrive while an insert is
// under way go together in the next one (one transaction, in which each
// call is stored whole or not at all), and the actor takes in all their jobs
// in one pass when it commits. A call itself never enters the actor: its
// ticket, the caller's completion, is called with the answer.

extension QueueEngine {
    /// A call's new jobs on their way to the store; its answer goes to `ticket`.
    struct PendingEnqueue {
        let ticket: EnqueueTicket
        let batchID: String?
        /// Per request: the job, once known (a deduplicated request's at once).
        var items: [EnqueueResult.Item?]
        /// The jobs to store.
        let jobs: [NewJob]
        /// The index of each job's request, once a request was answered
        /// at once; until then (most calls) job i is request i.
        let requestIndexes: [Int]?
        let depthNeeded: QueueDemand

        func requestIndex(ofJob position: Int) -> Int { requestIndexes?[position] ?? position }
    }

    /// A call's jobs as committed, before duplicates are looked up.
    struct Accepted: Sendable {
        var batchID: String?
        var items: [EnqueueResult.Item?]
        /// Requests whose idempotency key another job took while they were stored.
        var duplicates: [(index: Int, holder: String)]
    }

    /// Accepts jobs once they are committed. With `batchLabels` the jobs form
    /// a batch: they are checked first and all accepted in one transaction,
    /// or all refused naming the bad ones.
    public nonisolated func enqueue(
        _ requests: [JobRequest], batchLabels: [String: String]? = nil
    ) async throws(EngineError) -> EnqueueResult {
        try await withCheckedContinuation { continuation in
            enqueue(requests, batchLabels: batchLabels) { continuation.resume(returning: $0) }
        }.get()
    }

    /// `enqueue`, answered through `completion` instead: called once, on
    /// whichever thread the answer is known (the caller's for a refusal, the
    /// engine's once the jobs are committed), so it must only pass the
    /// answer on. No task waits meanwhile.
    public nonisolated func enqueue(
        _ requests: [JobRequest], batchLabels: [String: String]? = nil,
        completion: @escaping @Sendable (Result<EnqueueResult, EngineError>) -> Void
    ) {
        // Checked before the actor: the check needs none of its state.
        let isBatch = batchLabels != nil
        guard !requests.isEmpty else {
            completion(.failure(.invalidArgument(isBatch ? "a batch needs at least one job" : "no job given")))
            return
        }
        if isBatch && requests.count > configuration.maxBatchSize {
            completion(.failure(.invalidArgument("jobs has \(requests.count) jobs; the most a batch may carry is "
                                                 + "\(configuration.maxBatchSize) (max_batch_size)")))
            return
        }
        if let batchLabels, let problem = JobRequest.labelsProblem(batchLabels, field: "labels") {
            completion(.failure(.invalidArgument(problem)))
            return
        }
        let problems = requests.enumerated().compactMap { index, request in
            request.problem(handlers: handlerTypes, rateKeys: rateKeys)
                .map { isBatch ? "jobs[\(index)]: \($0)" : $0 }
        }
        if !problems.isEmpty {
            let shown = problems.prefix(10).joined(separator: "; ")
            completion(.failure(.invalidArgument(problems.count > 10 ? "\(shown); and \(problems.count - 10) more" : shown)))
            return
        }
        let ticket = EnqueueTicket { [self] answer in
            switch answer {
            case .success(let accepted) where !accepted.duplicates.isEmpty:
                // Rare: the holders of the keys may have to be read from the store.
                Task {
                    do throws(EngineError) {
                        completion(.success(EnqueueResult(try await self.lookUpDuplicates(accepted))))
                    } catch {
                        completion(.failure(error))
                    }
                }
            default:
                completion(answer.map(EnqueueResult.init))
            }
        }
        // Left in the inbox, not handed to the actor: a call costs no hop
        // into it, and one turn of the actor takes in every call waiting.
        if inbox.post(EnqueueCall(requests: requests, batchLabels: batchLabels, ticket: ticket)) {
            Task { await self.takeInInbox() }
        }
    }

    /// Takes in every call waiting in the inbox, then starts storing them.
    private func takeInInbox() {
        for call in inbox.takeAll() {
            do {
                try submit(call.requests, batchLabels: call.batchLabels, ticket: call.ticket)
            } catch {
                call.ticket.answer(.failure(error))
            }
        }
        storeNextEnqueues()
    }

    /// Makes the records of checked requests and queues them for the next
    /// store insert. The ticket is answered once they are committed.
    private func submit(_ requests: [JobRequest], batchLabels: [String: String]?, ticket: EnqueueTicket) throws(EngineError) {
        guard phase == .running else { throw .unavailable("the server is shutting down") }
        let isBatch = batchLabels != nil
        let now = clock.nowMs
        let batchID = isBatch ? ids.next(nowMs: now) : nil
        var items: [EnqueueResult.Item?] = Array(repeating: nil, count: requests.count)
        var jobs: [NewJob] = []
        jobs.reserveCapacity(requests.count)
        var requestIndexes: [Int]?
        var depthNeeded = QueueDemand()
        // The jobs of a call mostly share their queue: its settings are looked up once.
        var queue: QueueConfiguration?
        for (index, request) in requests.enumerated() {
            if !request.idempotencyKey.isEmpty, let seq = table.seq(ofIdempotencyKey: request.idempotencyKey),
               let existing = table[seq] {
                items[index] = .init(job: view(existing, atMs: now), deduplicated: true)
                if requestIndexes == nil { requestIndexes = Array(0..<jobs.count) }
                continue
            }
            let queueName = !request.queue.isEmpty ? request.queue : configuration.typeQueues[request.type] ?? EngineConfiguration.defaultQueue
            if queue?.name != queueName {
                if !scheduler.hasQueue(queueName) { try refuseNewQueue(queueName) }
                queue = scheduler.configuration(ofQueue: queueName, nowMs: now)
            }
            let record = newRecord(request, queue: queue!, batchID: batchID, batchLabels: batchLabels ?? [:], atMs: now)
            depthNeeded.add(record.queue)
            jobs.append(NewJob(record, payload: request.payload))
            requestIndexes?.append(index)
        }
        // The first full queue by name, so that the refusal is the same every time.
        var full: (queue: String, depth: Int, maxDepth: Int, needed: Int)?
        for (queue, needed) in depthNeeded {
            let maxDepth = scheduler.configuration(ofQueue: queue, nowMs: now).maxDepth
            let depth = (counts[queue]?.waiting ?? 0) + reserved[queue, default: 0]
            if maxDepth > 0 && depth + needed > maxDepth, full.map({ queue < $0.queue }) ?? true {
                full = (queue, depth, maxDepth, needed)
            }
        }
        if let full {
            throw .resourceExhausted("queue \"\(full.queue)\" is full: \(full.depth) jobs waiting, max_depth \(full.maxDepth)"
                + (full.needed > 1 ? ", \(full.needed) more asked" : ""))
        }

        guard !jobs.isEmpty else {
            ticket.answer(.success(Accepted(batchID: nil, items: items, duplicates: [])))
            return
        }
        for (queue, needed) in depthNeeded { reserved[queue, default: 0] += needed }
        enqueuesToStore.append(PendingEnqueue(ticket: ticket, batchID: batchID, items: items, jobs: jobs,
                                              requestIndexes: requestIndexes, depthNeeded: depthNeeded))
    }

    /// Throws when a new queue named `name` would be one too many. A call
    /// refused here may have created earlier new queues of its jobs: they
    /// count, as the ones a client names one call at a time would.
    func refuseNewQueue(_ name: String) throws(EngineError) {
        let count = scheduler.queueOrder.count
        guard count >= configuration.maxQueues else { return }
        let shown = name.utf8.count > 64 ? String(name.prefix(40)) + "…" : name
        throw .resourceExhausted("queue \"\(shown)\" would be a new queue, and there are \(count), the most there may be "
                                 + "(max_queues \(configuration.maxQueues)): use an existing queue, or labels to tell jobs apart")
    }

    /// Starts storing the waiting calls' jobs, unless an insert is under way
    /// (its end starts the next).
    private func storeNextEnqueues() {
        guard enqueuesInStore.isEmpty, !enqueuesToStore.isEmpty else { return }
        // Kept here, not in the task: `stored` then owns the only copy and
        // fills in each call's items in place.
        enqueuesInStore = enqueuesToStore
        enqueuesToStore = []
        let jobs = enqueuesInStore.map(\.jobs)
        let store = self.store
        Task.detached { [self] in
            let results: Result<[Result<[InsertOutcome], any Error>], any Error>
            do {
                results = .success(try await store.insert(calls: jobs))
            } catch {
                results = .failure(error)
            }
            await self.stored(results)
        }
    }

    /// Takes in the committed jobs of every call stored together, then
    /// answers each call.
    private func stored(_ results: Result<[Result<[InsertOutcome], any Error>], any Error>) {
        var calls = enqueuesInStore
        enqueuesInStore = []
        // The next calls' insert goes ahead while these are taken in, with
        // the calls still in the inbox: the writer does not wait for this
        // turn to end to get them.
        takeInInbox()
        let added = clock.nowMs
        for index in calls.indices {
            for (queue, needed) in calls[index].depthNeeded { reserved[queue, default: 0] -= needed }
            let outcomes: [InsertOutcome]
            switch results.flatMap({ $0[index] }) {
            case .failure(let error):
                calls[index].ticket.answer(.failure(.storage("the jobs were not stored: \(error)")))
                continue
            case .success(let stored):
                outcomes = stored
            }
            let batchID = calls[index].batchID
            var batchCounts = StateCounts()
            var duplicates: [(index: Int, holder: String)] = []
            for (position, outcome) in outcomes.enumerated() {
                switch outcome {
                case .inserted:
                    let record = calls[index].jobs[position].record
                    table.insert(record)
                    counts[record.queue, default: StateCounts()].move(from: nil, to: record.state)
                    batchCounts.move(from: nil, to: record.state)
                    scheduler.add(record, nowMs: added)
                    if let expireAtMs = record.expireAtMs { watchExpiry(expireAtMs, of: record.seq) }
                case .duplicate(let holder):
                    duplicates.append((calls[index].requestIndex(ofJob: position), holder))
                }
            }
            // A new batch counts the jobs just stored (none if all were duplicates: no batch then).
            if let batchID, batchCounts.total > 0 { batches[batchID] = batchCounts }
            // A batch arrives whole: each of its "enqueued" events shows all of it.
            let batch = batchID.flatMap { batchSummary($0, atMs: added) }
            // A batch's answer names its jobs only: their reasons to wait matter to streams alone.
            let withWait = calls[index].jobs.count == 1 || !hub.subscribers.isEmpty
            // The jobs of a call mostly share their run_at: one note for them all.
            var scheduledNote = (runAtMs: Int64.min, note: "")
            for (position, outcome) in outcomes.enumerated() where outcome == .inserted {
                let record = calls[index].jobs[position].record
                if record.state == .scheduled && record.runAtMs != scheduledNote.runAtMs {
                    scheduledNote = (record.runAtMs, "enqueued to run at \(record.runAtMs)")
                }
                let note = record.state == .scheduled ? scheduledNote.note : "enqueued"
                let event = JobEvent(seq: 0, timeMs: added, kind: .state, job: view(record, atMs: added, withWait: withWait),
                                     note: note, batch: batch)
                hub.publish(event)
                calls[index].items[calls[index].requestIndex(ofJob: position)] = .init(job: event.job, deduplicated: false)
            }
            calls[index].ticket.answer(.success(Accepted(batchID: batchID, items: calls[index].items, duplicates: duplicates)))
        }
        pump()
    }

    /// Fills in the jobs that hold the keys of requests found to be duplicates.
    private func lookUpDuplicates(_ accepted: Accepted) async throws(EngineError) -> Accepted {
        var accepted = accepted
        for (index, holder) in accepted.duplicates {
            var existing = table.record(id: holder)
            if existing == nil {
                do { existing = try await store.job(id: holder) } catch { throw .storage("cannot read job \(holder): \(error)") }
            }
            guard let existing else { throw .storage("job \(holder) holds an idempotency key but cannot be found") }
            accepted.items[index] = .init(job: view(existing, atMs: clock.nowMs), deduplicated: true)
        }
        accepted.duplicates = []
        return accepted
    }

    private func newRecord(
        _ request: JobRequest, queue: QueueConfiguration, batchID: String?, batchLabels: [String: String], atMs now: Int64
    ) -> JobRecord {
        lastJobSeq += 1
        var lockKeys: [String] = []
        for key in request.lockKeys where !lockKeys.contains(key) { lockKeys.append(key) }
        let runAtMs = max(request.runAtMs, now)
        // The sooner of the job's own and its queue's max_wait, if either (no array per job).
        var expireAtMs: Int64? = request.expireAtMs > 0 ? request.expireAtMs : nil
        if let maxWaitMs = queue.maxWaitMs { expireAtMs = min(expireAtMs ?? .max, runAtMs.saturatingAdd(maxWaitMs)) }
        var record = JobRecord(
            id: ids.next(nowMs: now, seq: lastJobSeq), seq: lastJobSeq, queue: queue.name, type: request.type, priority: request.priority,
            state: request.runAtMs > now ? .scheduled : .queued,
            idempotencyKey: request.idempotencyKey.isEmpty ? nil : request.idempotencyKey,
            lockKeys: lockKeys, rateKey: request.rateKey.isEmpty ? nil : request.rateKey,
            maxAttempts: request.maxAttempts > 0 ? request.maxAttempts : queue.maxAttempts,
            timeoutMs: request.timeoutMs > 0 ? request.timeoutMs : queue.timeoutMs,
            runAtMs: runAtMs, batchId: batchID,
            labels: batchLabels.merging(request.labels) { _, job in job }, createdAtMs: now)
        if let expireAtMs { record.expireAtMs = expireAtMs }
        return record
    }
}

/// How many jobs a call adds to each queue. Most calls add to one queue,
/// kept without a dictionary.
struct QueueDemand: Sequence {
    private var first: (queue: String, count: Int)?
    private var others: [String: Int] = [:]

    mutating func add(_ queue: String) {
        if first == nil {
            first = (queue, 1)
        } else if first!.queue == queue {
            first!.count += 1
        } else {
            others[queue, default: 0] += 1
        }
    }

    struct Iterator: IteratorProtocol {
        fileprivate var first: (queue: String, count: Int)?
        fileprivate var others: [String: Int].Iterator

        mutating func next() -> (queue: String, count: Int)? {
            if let first {
                self.first = nil
                return first
            }
            return others.next().map { (queue: $0.key, count: $0.value) }
        }
    }

    func makeIterator() -> Iterator { Iterator(first: first, others: others.makeIterator()) }
}

/// An enqueue call on its way into the engine's actor (through `QueueEngine.inbox`).
struct EnqueueCall: Sendable {
    let requests: [JobRequest]
    let batchLabels: [String: String]?
    let ticket: EnqueueTicket
}

/// Where the answer to one enqueue call goes, given once by the engine.
struct EnqueueTicket: Sendable {
    let answer: @Sendable (Result<QueueEngine.Accepted, EngineError>) -> Void

    init(_ answer: @escaping @Sendable (Result<QueueEngine.Accepted, EngineError>) -> Void) {
        self.answer = answer
    }
}

extension EnqueueResult {
    /// The answer once every item is known.
    init(_ accepted: QueueEngine.Accepted) {
        self.init(batchID: accepted.batchID, items: accepted.items.map { $0! })
    }
}
