// What the engine shows: job views with positions and ETAs, status, and
// progress streams (docs/design.md §4).

extension QueueEngine {
    /// A queue selection's snapshot shows its running jobs and at most this
    /// many of its waiting jobs, best placed first.
    public static let queueSnapshotLimit = 1_000

    /// `withWait: false` leaves out why it waits, for a view no one will read
    /// that far (a big batch's enqueue events with no stream to see them).
    func view(_ record: JobRecord, atMs now: Int64, withWait: Bool = true) -> JobView {
        // Only a QUEUED job has a position; asking the scheduler costs a copy of it.
        let position = record.state == .queued ? scheduler.position(of: record) : 0
        return JobView(record: record, position: position, etaMs: eta(of: record, position: position, atMs: now),
                       wait: withWait ? waitReason(record, position: position, atMs: now) : nil)
    }

    /// Why `record` waits, if it does (`Scheduler.waitReason`).
    func waitReason(_ record: JobRecord, position: Int, atMs now: Int64) -> WaitReason? {
        if record.state == .blocked { return dependencyWaitReason(record) }
        guard record.state == .queued || record.state == .scheduled else { return nil }
        return scheduler.waitReason(
            record, position: position, atMs: now, holderIDs: { keys in keys.compactMap { self.table[$0.seq]?.id } },
            noPlace: { lane in self.noPlaceReason(lane: lane) })
    }

    /// Why no place is free in `lane` ("": spoold's own slots), if none is.
    private func noPlaceReason(lane: String) -> WaitReason? {
        if lane.isEmpty {
            return freeWorkers.isEmpty ? WaitReason(.workers, limit: workers.count) : nil
        }
        let serving = remoteWorkers.values.filter { $0.takesWork && $0.types.contains(lane) }
        if serving.isEmpty { return WaitReason(.noWorker, key: lane) }
        let free = serving.reduce(0) { $0 + $1.free }
        return free == 0 ? WaitReason(.workers, key: lane, limit: serving.count) : nil
    }

    /// When the job should finish: from its progress while it runs, else
    /// from its queue's recent mean run time and concurrency. 0: unknown.
    private func eta(of record: JobRecord, position: Int, atMs now: Int64) -> Int64 {
        if record.state.isTerminal { return record.finishedAtMs ?? 0 }
        return eta(of: record, position: position, meanRunMs: Int64(stats[record.queue]?.meanRunMs ?? 0), atMs: now)
    }

    /// `eta(of:position:atMs:)` for an unfinished job, its queue's mean run time known.
    private func eta(of record: JobRecord, position: Int, meanRunMs: Int64, atMs now: Int64) -> Int64 {
        switch record.state {
        case .running:
            let started = record.startedAtMs ?? now
            let fraction = record.progress.fraction
            if fraction >= 0.01 { return started.saturatingAdd(Int64(saturating: Double(max(1, now.saturatingAdd(-started))) / fraction)) }
            return meanRunMs > 0 ? max(now, started.saturatingAdd(meanRunMs)) : 0
        case .queued:
            guard meanRunMs > 0 else { return 0 }
            let concurrency = Int64(max(1, scheduler.concurrency(ofQueue: record.queue)))
            return now.saturatingAdd(Int64(saturating: Double(Int64(position - 1) / concurrency + 1) * Double(meanRunMs)))
        case .scheduled:
            return meanRunMs > 0 ? max(now, record.runAtMs).saturatingAdd(meanRunMs) : 0
        case .blocked:
            return 0
        case .succeeded, .failed, .cancelled:
            return record.finishedAtMs ?? 0
        }
    }

    /// A live batch's counts (nil once every job is terminal and committed).
    func batchSummary(_ id: String, atMs now: Int64) -> BatchSummary? {
        guard let counts = batches[id] else { return nil }
        return BatchSummary(id: id, counts: counts, etaMs: batchETA(id, counts: counts, atMs: now))
    }

    /// When the batch's last job should finish: not before any of its
    /// running jobs (each from its own ETA), and its waiting jobs run
    /// `concurrency` at a time, at its queue's recent mean run time, once
    /// the first of those frees a slot. O(workers), as every event of a
    /// batch job carries it. 0: unknown.
    private func batchETA(_ id: String, counts: StateCounts, atMs now: Int64) -> Int64 {
        guard counts.unfinished > 0, let seq = table.batchMembers[id]?.first, let queue = table[seq]?.queue,
              let meanRunMs = stats[queue]?.meanRunMs, meanRunMs > 0 else { return 0 }
        var running = 0
        var earliest = Int64.max, latest = Int64.min
        for (seq, job) in self.running where job.batchID == id {
            guard let record = table[seq] else { continue }
            let eta = eta(of: record, position: 0, meanRunMs: Int64(meanRunMs), atMs: now)
            running += 1
            earliest = min(earliest, eta)
            latest = max(latest, eta)
        }
        let waiting = counts.unfinished - running
        guard waiting > 0 else { return running > 0 ? latest : 0 }
        let concurrency = max(1, scheduler.concurrency(ofQueue: queue))
        let waves = (waiting + concurrency - 1) / concurrency
        let waitingDone = (running > 0 ? earliest : now).saturatingAdd(Int64(saturating: Double(waves) * meanRunMs))
        return running > 0 ? max(waitingDone, latest) : waitingDone
    }

    // MARK: Status

    /// Queues (all, or those named), workers, rate limiters, locks, and the
    /// named jobs or batch; with `onlySelected`, only the named jobs, batch
    /// and queues, at their cost alone. Unknown job ids or batch → NOT_FOUND.
    public func status(
        queues names: [String] = [], jobIDs: [String] = [], batchID: String = "", onlySelected: Bool = false
    ) async throws(EngineError) -> EngineStatus {
        // What is no longer in memory is read from the store. A read suspends,
        // and meanwhile a job or batch asked for may finish and leave memory:
        // look again until each is in memory or read (each leaves once).
        var stored: [String: JobRecord] = [:]
        var storedBatch: StateCounts?
        // A job shown ended is ended in the store too: what a caller then
        // reads there (ListJobs) agrees, and a restart cannot undo it.
        if jobIDs.contains(where: { endIsUncommitted(table.record(id: $0)) }) { await committed() }
        while true {
            let missing = jobIDs.filter { table.record(id: $0) == nil && stored[$0] == nil }
            let batchMissing = !batchID.isEmpty && batches[batchID] == nil && storedBatch == nil
            if missing.isEmpty && !batchMissing { break }
            for id in missing where stored[id] == nil {
                do {
                    guard let record = try await store.job(id: id) else { throw EngineError.notFound("no job \"\(id)\"") }
                    stored[id] = record
                } catch let error as EngineError {
                    throw error
                } catch {
                    throw .storage("cannot read job \(id): \(error)")
                }
            }
            if batchMissing {
                do { storedBatch = try await store.stateCounts(ofBatch: batchID) } catch { throw .storage("cannot read batch: \(error)") }
                if storedBatch?.total == 0 { throw .notFound("no batch \"\(batchID)\"") }
            }
        }

        let now = clock.nowMs
        var status = EngineStatus(serverTimeMs: now)
        let unknown = names.filter { scheduler.queues[$0] == nil }
        guard unknown.isEmpty else { throw .notFound("no queue \"\(unknown[0])\" (known: \(scheduler.queueOrder.joined(separator: ", ")))") }
        for name in names.isEmpty && !onlySelected ? scheduler.queueOrder : names {
            guard let queue = scheduler.queues[name] else { continue }
            status.queues.append(.init(
                name: name, counts: counts[name] ?? StateCounts(), concurrency: queue.configuration.concurrency,
                maxDepth: queue.configuration.maxDepth,
                throughputPerMinute: stats[name]?.finishes.total(atMs: now) ?? 0,
                meanRunMs: Int64(stats[name]?.meanRunMs ?? 0),
                runningJobIDs: running.keys.sorted().compactMap { table[$0] }.filter { $0.queue == name }.map(\.id),
                paused: queue.paused))
        }
        status.jobs = jobIDs.compactMap { id in table.record(id: id).map { view($0, atMs: now) } ?? stored[id].map { JobView(record: $0) } }
        if !batchID.isEmpty {
            status.batch = batchSummary(batchID, atMs: now)
                ?? storedBatch.map { BatchSummary(id: batchID, counts: $0, etaMs: 0) }
        }
        if onlySelected { return status }
        status.progressStreams = hub.subscribers.count
        status.progressStreamBytes = hub.budget.usedBytes
        status.workers = workers.enumerated().map { index, worker in
            let record = worker.flatMap { table[$0.seq] }
            return .init(index: index, jobID: record?.id, queue: record?.queue, sinceMs: worker?.sinceMs ?? 0)
        }
        status.remoteWorkers = remoteWorkerStatuses()
        func limiter(_ key: String, _ bucket: TokenBucket) -> EngineStatus.RateLimiter {
            let used = Double(scheduler.tokensTaken[key]?.total(atMs: now) ?? 0)
            return .init(key: key, ratePerSecond: bucket.rate, configuredRatePerSecond: bucket.configuredRate,
                         burst: bucket.burst, tokens: bucket.tokens(atMs: now),
                         utilisation: min(1, used / (bucket.configuredRate * 60)))
        }
        for name in scheduler.queueOrder {
            if let bucket = scheduler.queues[name]?.bucket { status.rateLimiters.append(limiter("queue:" + name, bucket)) }
        }
        for (key, bucket) in scheduler.rateBuckets.sorted(by: { $0.key < $1.key }) {
            status.rateLimiters.append(limiter(key, bucket))
        }
        for key in Set(scheduler.locks.keys).union(configuration.lockCapacities.keys).sorted() {
            status.locks.append(.init(
                key: key, capacity: scheduler.locks.capacity(of: key),
                holders: scheduler.locks.holders(of: key).sorted().compactMap { table[$0.seq]?.id },
                waiters: scheduler.locks.waiterCount(of: key)))
        }
        status.schedules = scheduleStatuses()
        return status
    }

    // MARK: Progress streams

    /// A stream of `selection`'s events (docs/design.md §4): with `afterSeq`, the
    /// remembered events after it first; then a snapshot of each selected
    /// job; then live events. A job or batch selection ends once all its
    /// jobs are terminal; a queue selection runs until the reader leaves
    /// (`unsubscribe`). Unknown job ids or batch → NOT_FOUND.
    public func subscribe(_ selection: Selection, afterSeq: UInt64 = 0, positionIntervalMs: Int64? = nil) async throws(EngineError) -> Subscription {
        guard phase == .running else { throw .unavailable("the server is shutting down") }
        let interval = max(1, positionIntervalMs ?? configuration.positionIntervalMs)
        // Jobs not in memory are terminal (or unknown): load them first, then
        // build the snapshot without suspending, so no event falls between.
        var stored: [String: JobRecord] = [:]
        do {
            switch selection {
            case .jobs(let ids):
                guard !ids.isEmpty else { throw EngineError.invalidArgument("no job ids given") }
                // A snapshot shows no end before it is stored (see status).
                if ids.contains(where: { endIsUncommitted(table.record(id: $0)) }) { await committed() }
                // A job in memory may end, and leave it, while the store is read: look
                // again until a pass finds every job. Each pass is linear (up to 10,000 ids).
                var missing = ids.filter { table.record(id: $0) == nil }
                while !missing.isEmpty {
                    for id in missing where stored[id] == nil {
                        guard let record = try await store.job(id: id) else { throw EngineError.notFound("no job \"\(id)\"") }
                        stored[id] = record
                    }
                    missing = ids.filter { table.record(id: $0) == nil && stored[$0] == nil }
                }
            case .batch(let batch):
                if let members = table.batchMembers[batch], members.contains(where: { endIsUncommitted(table[$0]) }) {
                    await committed()
                }
                // A job read unfinished but gone from memory ended while the
                // store was read: read again, or its end would be missed.
                repeat {
                    stored = [:]
                    for record in try await store.jobs(inBatch: batch) { stored[record.id] = record }
                } while stored.values.contains { !$0.state.isTerminal && table.record(id: $0.id) == nil }
                if stored.isEmpty && table.batchMembers[batch] == nil { throw EngineError.notFound("no batch \"\(batch)\"") }
            case .queue(let queue):
                guard !queue.isEmpty else { throw EngineError.invalidArgument("no queue given") }
            case .all:
                break
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .storage("cannot read jobs: \(error)")
        }

        let now = clock.nowMs
        let subscription = Subscription(limit: configuration.subscriberBufferLimit, budget: hub.budget)
        if afterSeq > 0 {
            for event in hub.replay(after: afterSeq, for: selection) { subscription.push(event) }
        }
        var snapshot: [JobRecord] = []
        switch selection {
        case .jobs(let ids):
            var seen: Set<String> = []
            for id in ids where seen.insert(id).inserted { snapshot.append(table.record(id: id) ?? stored[id]!) }
        case .batch(let batch):
            let live = (table.batchMembers[batch].map(Array.init) ?? []).compactMap { table[$0] }
            let liveIDs = Set(live.map(\.id))
            snapshot = (stored.values.filter { !liveIDs.contains($0.id) } + live).sorted { $0.seq < $1.seq }
        case .queue(let queue):
            snapshot = running.keys.sorted().compactMap { table[$0] }.filter { $0.queue == queue }
            if let waiting = scheduler.queues[queue]?.waiting {
                for position in stride(from: 1, through: min(waiting.count, Self.queueSnapshotLimit), by: 1) {
                    if let key = waiting.key(at: position), let record = table[key.seq] { snapshot.append(record) }
                }
            }
        case .all:
            snapshot = running.keys.sorted().compactMap { table[$0] }
        }
        for record in snapshot {
            var snap = event(.snapshot, record, note: "", atMs: now)
            if case .batch(let batch) = selection, snap.batch == nil { snap.batch = storedSummary(batch, snapshot) }
            subscription.push(snap)
        }

        let open = Set(snapshot.filter { !$0.state.isTerminal }.map(\.jobID))
        switch selection {
        case .jobs, .batch:
            if open.isEmpty {
                subscription.finish()
                return subscription
            }
        case .queue, .all:
            break
        }
        var openJobs: Set<JobID> = []
        if case .jobs = selection { openJobs = open }
        hub.add(EventHub.Subscriber(selection: selection, subscription: subscription, open: openJobs,
                                    positionIntervalMs: interval, nextPositionMs: now + interval))
        startPositionTicker()
        return subscription
    }

    /// The reader of `subscription` left.
    public func unsubscribe(_ subscription: Subscription) {
        hub.remove(ObjectIdentifier(subscription))
    }

    private func storedSummary(_ batch: String, _ records: [JobRecord]) -> BatchSummary {
        var counts = StateCounts()
        for record in records { counts.move(from: nil, to: record.state) }
        return BatchSummary(id: batch, counts: counts, etaMs: 0)
    }

    // MARK: Position events

    private func startPositionTicker() {
        guard positionTicker == nil else { return }
        let clock = self.clock
        positionTicker = Task.detached { [weak self] in
            while let next = await self?.publishPositions() {
                guard (try? await clock.sleep(untilMs: next)) != nil else { return }
            }
        }
    }

    /// Sends each job and batch stream the positions of its QUEUED jobs that
    /// moved, or whose reason to wait changed, since it last heard, at most once per its interval. Answers
    /// when to look again (nil: no such stream is left; the ticker stops).
    func publishPositions() -> Int64? {
        let now = clock.nowMs
        var next: Int64?
        for (id, subscriber) in hub.subscribers {
            let seqs: [Int64]
            switch subscriber.selection {
            case .jobs: seqs = subscriber.open.compactMap { table.seq(of: $0) }
            case .batch(let batch): seqs = table.batchMembers[batch].map(Array.init) ?? []
            case .queue, .all: continue
            }
            if now >= subscriber.nextPositionMs {
                var sent = subscriber.sentPositions
                for seq in seqs {
                    guard let record = table[seq], record.state == .queued else { continue }
                    var event = event(.position, record, note: "", atMs: now)
                    // A new position, or a new reason to wait (a lock taken, a queue paused).
                    let mark = EventHub.PositionMark(position: event.job.position, wait: event.job.wait?.kind,
                                                     key: event.job.wait?.key ?? "")
                    guard sent[record.jobID] != mark else { continue }
                    sent[record.jobID] = mark
                    event.seq = hub.nextSeq()
                    subscriber.subscription.push(event)
                }
                hub.update(id) { subscriber in
                    subscriber.sentPositions = sent
                    subscriber.nextPositionMs = now + subscriber.positionIntervalMs
                }
            }
            let due = hub.subscribers[id]?.nextPositionMs ?? now
            next = min(next ?? due, due)
        }
        hub.enforceBudget()
        if next == nil { positionTicker = nil }
        return next
    }
}

extension QueueEngine {
    /// The payload `jobID` was enqueued with (read from the store).
    /// Unknown job → NOT_FOUND; a pruned payload → empty.
    public func payload(ofJob jobID: String) async throws(EngineError) -> [UInt8] {
        do {
            let seq: Int64
            if let record = table.record(id: jobID) {
                seq = record.seq
            } else if let record = try await store.job(id: jobID) {
                seq = record.seq
            } else {
                throw EngineError.notFound("no job \"\(jobID)\"")
            }
            return try await store.payload(ofJobSeq: seq) ?? []
        } catch let error as EngineError {
            throw error
        } catch {
            throw .storage("cannot read the payload of \(jobID): \(error)")
        }
    }
}

extension QueueEngine {
    /// A page of jobs by `query` (docs/api.md: ListJobs), from the store,
    /// each as the engine knows it now if it is unfinished (state, progress,
    /// position and ETA current).
    public func listJobs(_ query: JobQuery) async throws(EngineError) -> (jobs: [JobView], nextAfterSeq: Int64?, total: Int) {
        guard (1...JobQuery.maxPageSize).contains(query.pageSize) else {
            throw .invalidArgument("page_size must be from 1 to \(JobQuery.maxPageSize) (0: \(JobQuery.defaultPageSize)), not \(query.pageSize)")
        }
        if let after = query.createdAfterMs, let before = query.createdBeforeMs, after >= before {
            throw .invalidArgument("created_after_ms (\(after)) must be before created_before_ms (\(before))")
        }
        let page: JobPage
        do {
            page = try await store.jobs(matching: query)
        } catch {
            throw .storage("cannot list jobs: \(error)")
        }
        let now = clock.nowMs
        let jobs = page.jobs.map { stored in table.record(id: stored.id).map { view($0, atMs: now) } ?? JobView(record: stored) }
        return (jobs, page.nextAfterSeq, page.total)
    }
}

extension QueueEngine {
    /// Whether the record is a job that ended in memory, its end not yet
    /// committed: a terminal job leaves memory once its end is stored.
    func endIsUncommitted(_ record: JobRecord?) -> Bool {
        record?.state.isTerminal == true
    }
}
