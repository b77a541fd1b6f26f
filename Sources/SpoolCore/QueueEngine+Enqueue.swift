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
        /// The last item is the batch's callback.
        let hasCallback: Bool
        /// The batch's idempotency key.
        let batchKey: String?

        func requestIndex(ofJob position: Int) -> Int { requestIndexes?[position] ?? position }
    }

    /// A call's jobs as committed, before duplicates are looked up.
    struct Accepted: Sendable {
        var batchID: String?
        var items: [EnqueueResult.Item?]
        /// Requests whose idempotency key another job took while they were stored.
        var duplicates: [(index: Int, holder: String)]
        /// Every job was there already, in this batch.
        var deduplicatedBatch = false
        var hasCallback = false
    }

    /// Accepts jobs once they are committed. With `batchLabels` the jobs form
    /// a batch: they are checked first and all accepted in one transaction,
    /// or all refused naming the bad ones.
    public nonisolated func enqueue(
        _ requests: [JobRequest], batchLabels: [String: String]? = nil
    ) async throws(EngineError) -> EnqueueResult {
        try await enqueue(requests, batch: batchLabels.map { BatchOptions(labels: $0) })
    }

    /// `enqueue`, with a batch's options (nil: not a batch).
    public nonisolated func enqueue(_ requests: [JobRequest], batch: BatchOptions?) async throws(EngineError) -> EnqueueResult {
        try await withCheckedContinuation { continuation in
            enqueue(requests, batch: batch) { continuation.resume(returning: $0) }
        }.get()
    }

    public nonisolated func enqueue(
        _ requests: [JobRequest], batchLabels: [String: String]? = nil,
        completion: @escaping @Sendable (Result<EnqueueResult, EngineError>) -> Void
    ) {
        enqueue(requests, batch: batchLabels.map { BatchOptions(labels: $0) }, completion: completion)
    }

    /// `enqueue`, answered through `completion` instead: called once, on
    /// whichever thread the answer is known (the caller's for a refusal, the
    /// engine's once the jobs are committed), so it must only pass the
    /// answer on. No task waits meanwhile.
    public nonisolated func enqueue(
        _ requests: [JobRequest], batch: BatchOptions?,
        completion: @escaping @Sendable (Result<EnqueueResult, EngineError>) -> Void
    ) {
        // Checked before the actor: the check needs none of its state.
        let isBatch = batch != nil
        let batchLabels = batch?.labels
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
        var problems = requests.enumerated().compactMap { index, request in
            (request.problem(handlers: handlerTypes, rateKeys: rateKeys) ?? Self.callProblem(request, index: index, isBatch: isBatch))
                .map { isBatch ? "jobs[\(index)]: \($0)" : $0 }
        }
        if let batch {
            if let callback = batch.callback,
               let problem = callback.problem(handlers: handlerTypes, rateKeys: rateKeys)
                ?? (callback.dependsOnItems.isEmpty && callback.parentID.isEmpty ? nil
                    : "depends_on_items and parent_id are not for a callback: it waits for the batch") {
                problems.append("callback: \(problem)")
            }
            if let problem = JobRequest.idProblem(batch.parentID, field: "parent_id") { problems.append(problem) }
            if batch.idempotencyKey.utf8.count > JobLimits.maxIdempotencyKeyBytes {
                problems.append("idempotency_key is \(batch.idempotencyKey.utf8.count) bytes; the limit is \(JobLimits.maxIdempotencyKeyBytes)")
            }
            if !batch.idempotencyKey.isEmpty && !batch.parentID.isEmpty {
                problems.append("idempotency_key is for a call that makes a batch, not one that joins its parent's: "
                                + "give its jobs idempotency keys instead")
            }
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
        if inbox.post(EnqueueCall(requests: requests, batch: batch, ticket: ticket)) {
            Task { await self.takeInInbox() }
        }
    }

    /// What a request may ask only of one kind of call.
    private static func callProblem(_ request: JobRequest, index: Int, isBatch: Bool) -> String? {
        if !isBatch && !request.dependsOnItems.isEmpty { return "depends_on_items is for the jobs of an EnqueueBatch" }
        if isBatch && !request.parentID.isEmpty { return "parent_id is set on the EnqueueBatchRequest, for all its jobs" }
        for item in request.dependsOnItems where item < 0 || item >= index {
            return "depends_on_items names item \(item): only earlier items "
                + (index == 0 ? "can be waited for, and the first item has none" : "(0…\(index - 1)) can be waited for")
        }
        return nil
    }

    /// Takes in every call waiting in the inbox, then starts storing them.
    /// A call naming dependencies no longer in memory first reads them.
    func takeInInbox() {
        for call in inbox.takeAll() {
            if let key = call.batch?.idempotencyKey, !key.isEmpty {
                switch batchKeys[key] {
                case .storing(let waiting)?:
                    // The call that makes the batch is being stored: this one is answered with it after.
                    batchKeys[key] = .storing(waiting + [call])
                    continue
                case .stored(let batch)?:
                    answerKeyedBatch(call, batch)
                    continue
                case nil:
                    if !call.lookups.batchKeyRead {
                        lookUpBatchKeyThenPost(call, key)
                        continue
                    }
                    if let batch = call.lookups.keyedBatch {
                        answerKeyedBatch(call, batch)
                        continue
                    }
                }
            }
            let missing = missingDependencies(of: call.requests, callback: call.batch?.callback, lookups: call.lookups)
            if !missing.jobs.isEmpty || !missing.batches.isEmpty {
                lookUpThenPost(call, missing)
                continue
            }
            do {
                try submit(call)
            } catch {
                call.ticket.answer(.failure(error))
            }
        }
        storeNextEnqueues()
    }

    private func lookUpThenPost(_ call: EnqueueCall, _ missing: (jobs: Set<String>, batches: Set<String>)) {
        guard call.lookups.rounds < 5 else {
            call.ticket.answer(.failure(.unavailable("the jobs it depends on are being stored; try again")))
            return
        }
        Task {
            var call = call
            do throws(EngineError) {
                try await self.lookUp(jobs: missing.jobs, batches: missing.batches, into: &call.lookups)
            } catch {
                call.ticket.answer(.failure(error))
                return
            }
            if self.inbox.post(call) { self.takeInInbox() }
        }
    }

    /// The batch a job joins through its parent, which must not have ended.
    private func parentBatch(_ parentID: String) throws(EngineError) -> String {
        guard let parent = table.record(id: parentID), !parent.state.isTerminal else {
            throw .failedPrecondition("parent_id \"\(Self.shown(parentID))\" names no job that has not ended: "
                                      + "jobs join the batch of a job while it runs")
        }
        guard let batch = parent.batchId else {
            throw .failedPrecondition("parent job \(parentID) is in no batch: enqueue it with EnqueueBatch to give its children one")
        }
        return batch
    }

    /// Makes the records of checked requests and queues them for the next
    /// store insert. The ticket is answered once they are committed.
    private func submit(_ call: EnqueueCall) throws(EngineError) {
        guard phase == .running else { throw .unavailable("the server is shutting down") }
        let requests = call.requests
        let isBatch = call.batch != nil
        let batchLabels = call.batch?.labels
        let now = clock.nowMs
        let joined = try call.batch.flatMap { $0.parentID.isEmpty ? nil : $0.parentID }.map(parentBatch)
        let batchID = isBatch ? joined ?? ids.next(nowMs: now) : nil
        // A callback runs however its batch ended.
        let callback = call.batch?.callback.map { callback in
            var request = callback
            request.runIfDependenciesFail = true
            return request
        }
        var items: [EnqueueResult.Item?] = Array(repeating: nil, count: requests.count + (callback == nil ? 0 : 1))
        var jobs: [NewJob] = []
        jobs.reserveCapacity(requests.count)
        var requestIndexes: [Int]?
        var depthNeeded = QueueDemand()
        // Each request's job: its id and seq (a new one's is not in the table
        // yet), kept only for a batch whose items wait for earlier ones.
        let keepsItems = isBatch && requests.contains { !$0.dependsOnItems.isEmpty }
        var itemJobs: [(id: JobID, seq: Int64)] = []
        // The jobs of a call mostly share their queue: its settings are looked up once.
        var queue: QueueConfiguration?
        for index in 0..<items.count {
            let isCallback = index == requests.count
            let request = isCallback ? callback! : requests[index]
            if !request.idempotencyKey.isEmpty, let seq = table.seq(ofIdempotencyKey: request.idempotencyKey),
               let existing = table[seq] {
                items[index] = .init(job: view(existing, atMs: now), deduplicated: true)
                if keepsItems { itemJobs.append((existing.jobID, existing.seq)) }
                if requestIndexes == nil { requestIndexes = Array(0..<jobs.count) }
                continue
            }
            if isCallback && jobs.isEmpty {  // every job was there already: so is its callback
                items.removeLast()
                break
            }
            let queueName = !request.queue.isEmpty ? request.queue : configuration.typeQueues[request.type] ?? EngineConfiguration.defaultQueue
            if queue?.name != queueName {
                if !scheduler.hasQueue(queueName) { try refuseNewQueue(queueName) }
                queue = scheduler.configuration(ofQueue: queueName, nowMs: now)
            }
            let jobBatch = isCallback ? nil : isBatch ? batchID : try request.parentID.isEmpty ? nil : parentBatch(request.parentID)
            if let jobBatch, request.dependsOnBatches.contains(jobBatch) {
                throw .invalidArgument((isBatch ? "jobs[\(index)]: " : "") + "depends_on_batches names the job's own batch, "
                                       + "which cannot end before it: use the batch's callback")
            }
            let record = newRecord(request, queue: queue!, batchID: jobBatch, batchLabels: isCallback ? [:] : batchLabels ?? [:],
                                   atMs: now)
            if keepsItems { itemJobs.append((record.jobID, record.seq)) }
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
            // Every job was there already: a batch answers theirs, if they share one.
            let shared = isBatch ? items.first??.job.record.batchId : nil
            let batch = shared.flatMap { id in items.allSatisfy { $0?.job.record.batchId == id } ? id : nil }
            call.ticket.answer(.success(Accepted(batchID: batch, items: items, duplicates: [], deduplicatedBatch: batch != nil)))
            return
        }
        // Its jobs are on their way into their batches: none can end meanwhile.
        for (batch, count) in BatchTally(jobs) { batchJoining[batch, default: 0] += count }
        // Dependencies are linked once nothing more can refuse the call.
        if callback != nil || requests.contains(where: \.hasDependencies) {
            for position in jobs.indices {
                let index = requestIndexes?[position] ?? position
                if index == requests.count {
                    linkDependencies(of: &jobs[position].record, callback!, items: itemJobs, lookups: call.lookups, extraBatch: batchID)
                } else if requests[index].hasDependencies {
                    linkDependencies(of: &jobs[position].record, requests[index], items: itemJobs, lookups: call.lookups)
                }
            }
        }
        for (queue, needed) in depthNeeded { reserved[queue, default: 0] += needed }
        let batchKey = call.batch.flatMap { $0.idempotencyKey.isEmpty ? nil : $0.idempotencyKey }
        if let batchKey {
            batchKeys[batchKey] = .storing([])
            jobs[0].batchKey = batchKey  // the first is a job of the batch: a callback comes last
        }
        enqueuesToStore.append(PendingEnqueue(ticket: call.ticket, batchID: batchID, items: items, jobs: jobs,
                                              requestIndexes: requestIndexes, depthNeeded: depthNeeded,
                                              hasCallback: callback != nil, batchKey: batchKey))
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
        var keyedCallsWaiting: [EnqueueCall] = []
        for index in calls.indices {
            for (queue, needed) in calls[index].depthNeeded { reserved[queue, default: 0] -= needed }
            // Its jobs are no longer on their way into their batches.
            var touchedBatches: [String] = []
            for (batch, count) in BatchTally(calls[index].jobs) {
                batchJoining[batch, default: 0] -= count
                if batchJoining[batch] == 0 { batchJoining[batch] = nil }
                touchedBatches.append(batch)
            }
            let outcomes: [InsertOutcome]
            switch results.flatMap({ $0[index] }) {
            case .failure(let error):
                if let key = calls[index].batchKey { keyedCallsWaiting += batchKeyStored(key, batch: nil) }
                for job in calls[index].jobs { blockedJobDropped(job.record.seq) }
                for batch in touchedBatches { batchMayHaveEnded(batch) }
                calls[index].ticket.answer(.failure(.storage("the jobs were not stored: \(error)")))
                continue
            case .success(let stored):
                outcomes = stored
            }
            let batchID = calls[index].batchID
            var batchCounts = StateCounts()
            var duplicates: [(index: Int, holder: String)] = []
            var blockedJobs: [Int64] = []
            for (position, outcome) in outcomes.enumerated() {
                let record = calls[index].jobs[position].record
                switch outcome {
                case .inserted:
                    table.insert(record)
                    counts[record.queue, default: StateCounts()].move(from: nil, to: record.state)
                    if let batch = record.batchId {
                        if batch == batchID { batchCounts.move(from: nil, to: record.state) }
                        else { batches[batch, default: StateCounts()].move(from: nil, to: record.state) }
                    }
                    if record.state == .blocked { blockedJobs.append(record.seq) } else { scheduler.add(record, nowMs: added) }
                    if let expireAtMs = record.expireAtMs { watchExpiry(expireAtMs, of: record.seq) }
                case .duplicate(let holder):
                    blockedJobDropped(record.seq, redirectingDependentsTo: holder)
                    duplicates.append((calls[index].requestIndex(ofJob: position), holder))
                }
            }
            // A batch counts the jobs just stored (none if all were duplicates: no batch then).
            if let batchID, batchCounts.total > 0 { batches[batchID, default: StateCounts()].add(batchCounts) }
            if let key = calls[index].batchKey {
                let made = batchID.flatMap { batchCounts.total > 0 ? KeyedBatch(id: $0, size: batchCounts.total) : nil }
                keyedCallsWaiting += batchKeyStored(key, batch: made)
            }
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
            calls[index].ticket.answer(.success(Accepted(batchID: batchID, items: calls[index].items, duplicates: duplicates,
                                                         hasCallback: calls[index].hasCallback)))
            for seq in blockedJobs { blockedJobStored(seq, atMs: added) }
            for batch in touchedBatches { batchMayHaveEnded(batch) }
        }
        tellDependents()
        // Calls with the idempotency key of a batch just stored (or not): answered with it, or made now.
        if !keyedCallsWaiting.isEmpty {
            for call in keyedCallsWaiting { _ = inbox.post(call) }
            takeInInbox()
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
        if request.rateCost > 1 { record.rateCost = request.rateCost }
        return record
    }
}

/// How many of a call's jobs go to each batch. Most calls have one batch
/// or none: counted without a dictionary.
struct BatchTally: Sequence {
    private var first: (batch: String, count: Int)?
    private var others: [String: Int] = [:]

    init(_ jobs: [NewJob]) {
        for job in jobs {
            guard let batch = job.record.batchId else { continue }
            if first == nil {
                first = (batch, 1)
            } else if first!.batch == batch {
                first!.count += 1
            } else {
                others[batch, default: 0] += 1
            }
        }
    }

    func makeIterator() -> some IteratorProtocol<(String, Int)> {
        ((first.map { [($0.batch, $0.count)] } ?? []) + others.map { ($0.key, $0.value) }).makeIterator()
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
    /// nil: not a batch.
    let batch: BatchOptions?
    let ticket: EnqueueTicket
    /// Its dependencies read from the store so far: out of line, as most
    /// calls read none and a call is moved several times on its way.
    var lookups: QueueEngine.Lookups {
        get { looked?.value ?? QueueEngine.Lookups() }
        set { looked = Looked(newValue) }
    }
    private var looked: Looked?

    private final class Looked: Sendable {
        let value: QueueEngine.Lookups

        init(_ value: QueueEngine.Lookups) { self.value = value }
    }

    init(requests: [JobRequest], batch: BatchOptions?, ticket: EnqueueTicket) {
        self.requests = requests
        self.batch = batch
        self.ticket = ticket
    }
}

/// What an EnqueueBatch asks of its batch.
public struct BatchOptions: Sendable, Equatable {
    /// Added to every job of the batch.
    public var labels: [String: String] = [:]
    /// Runs once every job of the batch ended, not in it.
    public var callback: JobRequest?
    /// The same key again answers the batch it made.
    public var idempotencyKey = ""
    /// The jobs join this running job's batch instead of making one.
    public var parentID = ""

    public init(labels: [String: String] = [:], callback: JobRequest? = nil, idempotencyKey: String = "", parentID: String = "") {
        self.labels = labels
        self.callback = callback
        self.idempotencyKey = idempotencyKey
        self.parentID = parentID
    }
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
        self.init(batchID: accepted.batchID, items: accepted.items.map { $0! }, deduplicated: accepted.deduplicatedBatch,
                  hasCallback: accepted.hasCallback)
    }
}

// MARK: Batches made with an idempotency key

extension QueueEngine {
    /// A batch idempotency key the engine knows: its batch is being stored
    /// (calls with the same key wait for it), or stored and in memory.
    enum BatchKeyState {
        case storing([EnqueueCall])
        case stored(KeyedBatch)
    }

    /// The call that made (or failed to make) `key`'s batch ended; answers
    /// the calls that waited for it, to be taken in again.
    func batchKeyStored(_ key: String, batch: KeyedBatch?) -> [EnqueueCall] {
        guard case .storing(let waiting)? = batchKeys[key] else { return [] }
        if let batch {
            batchKeys[key] = .stored(batch)
            batchKeyOfBatch[batch.id] = key
        } else {
            batchKeys[key] = nil
        }
        return waiting
    }

    /// Reads whether the store has a batch made with `key` (one no longer
    /// in memory), then takes the call in again.
    private func lookUpBatchKeyThenPost(_ call: EnqueueCall, _ key: String) {
        Task {
            var call = call
            do {
                call.lookups.keyedBatch = try await store.batch(idempotencyKey: key)
            } catch {
                call.ticket.answer(.failure(.storage("cannot read the batch of idempotency key \(key): \(error)")))
                return
            }
            call.lookups.batchKeyRead = true
            if inbox.post(call) { takeInInbox() }
        }
    }

    /// Answers a call whose idempotency key made `batch` before: its jobs
    /// as that call stored them (those still retained), as they are now.
    private func answerKeyedBatch(_ call: EnqueueCall, _ batch: KeyedBatch) {
        Task {
            let records: [JobRecord]
            do {
                records = try await store.jobs(inBatch: batch.id)
            } catch {
                call.ticket.answer(.failure(.storage("cannot read batch \(batch.id): \(error)")))
                return
            }
            let now = clock.nowMs
            let items = records.prefix(batch.size).map { stored in
                EnqueueResult.Item(job: table.record(id: stored.id).map { view($0, atMs: now) } ?? JobView(record: stored),
                                   deduplicated: true)
            }
            call.ticket.answer(.success(Accepted(batchID: batch.id, items: items, duplicates: [], deduplicatedBatch: true)))
        }
    }
}
