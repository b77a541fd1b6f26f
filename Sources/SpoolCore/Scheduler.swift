/// What runs next (docs/design.md §3): per queue, its waiting jobs in priority
/// then FIFO order; the jobs waiting for a time; lock keys; token buckets
/// per queue and per rate key. Lives inside `QueueEngine`; the engine tells
/// it every change of a job's state, and asks it which jobs to start.
///
/// A QUEUED job that cannot start because a lock key or a rate key's tokens
/// are taken is *parked*: it leaves its queue's candidates (so jobs behind
/// it still start) but keeps its position. It comes back when a key frees
/// (the best-ranked waiters first, as many as units freed) or when the rate
/// key's bucket refills. A job with no free place to run (spoold's slots
/// for its type all taken, or no connected worker for its remote type with
/// a free slot) is parked in its type's *lane* the same way, and comes back
/// as places free.
struct Scheduler {
    struct Queue {
        var configuration: QueueConfiguration
        /// Takes jobs, starts none (`UpdateQueue`).
        var paused = false
        /// Every QUEUED job: positions are ranks here.
        private(set) var waiting = ReadyQueue()
        /// The QUEUED jobs dispatch may pick, `waiting` less the parked ones,
        /// kept apart only from a job's first parking until the queue
        /// empties. Until then it is `waiting` itself: 32 bytes a job saved.
        private var unparked: ReadyQueue?
        var running = 0
        var scheduled = 0
        var bucket: TokenBucket?
        /// A fair queue's turns (`fair_by`).
        var fairness: Fairness?

        init(configuration: QueueConfiguration) {
            self.configuration = configuration
            if configuration.fairBy != nil { fairness = Fairness() }
        }

        /// Where dispatch looks.
        var candidates: ReadyQueue { unparked ?? waiting }

        /// Start-up: the queue's ready jobs, before any other change.
        mutating func load(_ ready: ReadyQueue) {
            precondition(waiting.isEmpty, "load runs before any job is added")
            waiting = ready
        }

        mutating func add(_ key: QueueKey) {
            waiting.insert(key)
            unparked?.insert(key)
        }

        /// The job left QUEUED (dispatched, cancelled): parked or not.
        mutating func remove(_ key: QueueKey) {
            waiting.remove(key)
            unparked?.remove(key)
            if waiting.isEmpty { unparked = nil }
        }

        mutating func park(_ key: QueueKey) {
            if unparked == nil { unparked = waiting }
            unparked!.remove(key)
        }

        mutating func unpark(_ key: QueueKey) {
            unparked?.insert(key)
        }
    }

    /// Start-time fair queuing among a queue's tenants: a job entering QUEUED
    /// takes the round after the later of its tenant's last round and the
    /// round dispatch has reached. Tenants with ready jobs thus alternate,
    /// one job each per round; a tenant arriving with one job is served
    /// within a round, however many jobs another tenant has queued.
    struct Fairness {
        /// The highest round dispatched.
        var reached: Int64 = 0
        /// Each tenant's last round handed out (only those above `reached` matter).
        var lastRound: [String: Int64] = [:]

        /// The table's size at which it is next swept.
        private var sweepAt = 1024

        mutating func nextRound(of tenant: String) -> Int64 {
            let round = max(reached, lastRound[tenant] ?? 0) + 1
            lastRound[tenant] = round
            // Tenants whose rounds dispatch passed say nothing more: dropped
            // when the table has doubled since the last sweep, so sweeps cost
            // O(1) a job however many tenants' jobs were cancelled unrun.
            if lastRound.count >= sweepAt {
                lastRound = lastRound.filter { $0.value > reached }
                sweepAt = max(1024, 2 * lastRound.count)
            }
            return round
        }
    }

    private enum Parking {
        case lock(queue: String)
        case rate(String, queue: String)
        /// No place for its type (`DispatchSlots.lane(of:)`).
        case slot(lane: String, queue: String)
    }

    private(set) var queues: [String: Queue] = [:]
    /// The round of each job of a fair queue, from entering QUEUED until it
    /// finishes (its key then, for its locks): empty without fair queues.
    private var fairRounds: [Int64: Int64] = [:]
    /// Whether any queue is fair: the common case looks no further.
    private var hasFairQueues = false
    /// Round-robin order: configured queues first, then the default queue,
    /// then others as they appear.
    private(set) var queueOrder: [String] = []
    private var nextQueue = 0
    private(set) var locks: LockTable
    private(set) var rateBuckets: [String: TokenBucket]
    private var rateParked: [String: ReadyQueue] = [:]
    private var laneParked: [String: ReadyQueue] = [:]
    private var parked: [Int64: Parking] = [:]
    private var timers = TimerHeap()
    /// Tokens taken per bucket ("queue:NAME" or the rate key), for utilisation.
    private(set) var tokensTaken: [String: MinuteCounter] = [:]
    private let configuration: EngineConfiguration

    init(configuration: EngineConfiguration, nowMs: Int64) {
        self.configuration = configuration
        locks = LockTable(capacities: configuration.lockCapacities)
        rateBuckets = configuration.rateKeys.mapValues { TokenBucket($0, nowMs: nowMs) }
        // The default queue is there before its first job, as the
        // configured ones are: status calls and dashboards can ask for it.
        for name in configuration.queues.map(\.name) + [EngineConfiguration.defaultQueue] {
            _ = self.configuration(ofQueue: name, nowMs: nowMs)
        }
    }

    /// Whether the queue named `name` exists.
    func hasQueue(_ name: String) -> Bool { queues[name] != nil }

    /// The settings of the queue named `name`, which is created with the
    /// defaults if it is new.
    mutating func configuration(ofQueue name: String, nowMs: Int64) -> QueueConfiguration {
        queues.values[queueIndex(name, nowMs: nowMs)].configuration
    }

    /// Where the queue named `name` is in `queues`, which creates it with
    /// the defaults if it is new. A change through `queues.values[index]`
    /// happens in place: one lookup of the name, and no copy of the queue.
    private mutating func queueIndex(_ name: String, nowMs: Int64) -> [String: Queue].Index {
        if let index = queues.index(forKey: name) { return index }
        let configuration = configuration.queue(named: name)
        var queue = Queue(configuration: configuration)
        queue.bucket = configuration.rateLimit.map { TokenBucket($0, nowMs: nowMs) }
        if queue.fairness != nil { hasFairQueues = true }
        queues[name] = queue
        queueOrder.append(name)
        return queues.index(forKey: name)!
    }

    /// Sets the queue's pause, concurrency and rate limit: `override` over
    /// its configuration. A new rate limit starts with a full bucket.
    mutating func apply(_ override: QueueOverride, toQueue name: String, nowMs: Int64) {
        let index = queueIndex(name, nowMs: nowMs)
        let configured = configuration.queue(named: name)
        var queue = queues.values[index]
        queue.paused = override.paused ?? false
        queue.configuration.concurrency = override.concurrency ?? configured.concurrency
        var rateLimit = override.rateLimit ?? configured.rateLimit
        // A rate set at run time keeps the configured recovery after a "rate limited".
        if override.rateLimit != nil, let recovery = configured.rateLimit?.recovery { rateLimit?.recovery = recovery }
        if rateLimit != queue.configuration.rateLimit {
            queue.configuration.rateLimit = rateLimit
            queue.bucket = rateLimit.map { TokenBucket($0, nowMs: nowMs) }
        }
        queues.values[index] = queue
    }

    /// How many of the queue's jobs may run at once (0 for a queue not seen yet).
    func concurrency(ofQueue name: String) -> Int {
        queues[name]?.configuration.concurrency ?? 0
    }

    func position(of job: JobRecord) -> Int {
        guard job.state == .queued else { return 0 }
        return queues[job.queue]?.waiting.position(of: key(of: job)) ?? 0
    }

    /// Where the job stands in its queue's order: its round in a fair
    /// queue (from entering QUEUED until it finishes), else 0.
    func key(of job: JobRecord) -> QueueKey {
        QueueKey(priority: job.priority, round: fairRounds.isEmpty ? 0 : fairRounds[job.seq] ?? 0, seq: job.seq)
    }

    /// Gives a job entering QUEUED in a fair queue its round.
    private mutating func enterFairQueue(_ job: JobRecord, queue index: [String: Queue].Index) {
        guard hasFairQueues, queues.values[index].fairness != nil, let label = queues.values[index].configuration.fairBy else { return }
        fairRounds[job.seq] = queues.values[index].fairness!.nextRound(of: job.labels[label] ?? "")
    }

    // MARK: Changes the engine reports

    /// A job entered SCHEDULED or QUEUED.
    mutating func add(_ job: JobRecord, nowMs: Int64) {
        let queue = queueIndex(job.queue, nowMs: nowMs)
        switch job.state {
        case .scheduled:
            queues.values[queue].scheduled += 1
            timers.insert(.init(dueMs: job.runAtMs, seq: job.seq))
        case .queued:
            enterFairQueue(job, queue: queue)
            queues.values[queue].add(key(of: job))
        default:
            preconditionFailure("only waiting jobs are scheduled, not \(job.state)")
        }
    }

    /// The waiting jobs found at start-up, gathered for `load`.
    struct Loader {
        fileprivate var ready: [String: [QueueKey]] = [:]
        fileprivate var scheduled: [(queue: String, timer: TimerHeap.Entry)] = []
        /// A fair queue's ready jobs, with their tenants: rounds are handed
        /// out again in enqueue order.
        fileprivate var fair: [String: [(key: QueueKey, tenant: String)]] = [:]
        private let configuration: EngineConfiguration
        /// Each queue's tenant label, if it is fair, as looked up.
        private var fairBy: [String: String?] = [:]

        init(configuration: EngineConfiguration = EngineConfiguration()) { self.configuration = configuration }

        mutating func add(_ job: JobRecord) {
            switch job.state {
            case .scheduled: scheduled.append((job.queue, .init(dueMs: job.runAtMs, seq: job.seq)))
            case .queued:
                if fairBy[job.queue] == nil { fairBy[job.queue] = .some(configuration.queue(named: job.queue).fairBy) }
                if let label = fairBy[job.queue] ?? nil {
                    fair[job.queue, default: []].append((job.key, job.labels[label] ?? ""))
                } else {
                    ready[job.queue, default: []].append(job.key)
                }
            default: preconditionFailure("only waiting jobs are scheduled, not \(job.state)")
            }
        }
    }



    /// Start-up: every waiting job at once, into a scheduler that has none.
    /// Each queue's ready jobs are sorted and built into its queues in O(n).
    mutating func load(_ loader: Loader, nowMs: Int64) {
        for (name, timer) in loader.scheduled {
            _ = configuration(ofQueue: name, nowMs: nowMs)
            queues[name]!.scheduled += 1
            timers.insert(timer)
        }
        for (name, keys) in loader.ready {
            _ = configuration(ofQueue: name, nowMs: nowMs)
            queues[name]!.load(ReadyQueue(sorted: keys.sorted()))
        }
        for (name, jobs) in loader.fair {
            _ = configuration(ofQueue: name, nowMs: nowMs)
            var fairness = queues[name]!.fairness ?? Fairness()
            var keys: [QueueKey] = []
            keys.reserveCapacity(jobs.count)
            for (key, tenant) in jobs.sorted(by: { $0.key.seq < $1.key.seq }) {
                let round = fairness.nextRound(of: tenant)
                fairRounds[key.seq] = round
                keys.append(QueueKey(priority: key.priority, round: round, seq: key.seq))
            }
            queues[name]!.fairness = fairness
            queues[name]!.load(ReadyQueue(sorted: keys.sorted()))
        }
    }

    /// A SCHEDULED or QUEUED job left that state without being dispatched
    /// (cancelled, or its run_at came).
    mutating func remove(_ job: JobRecord) {
        guard let queue = queues.index(forKey: job.queue) else { return }
        switch job.state {
        case .scheduled:
            queues.values[queue].scheduled -= 1
        case .queued:
            let key = key(of: job)
            queues.values[queue].remove(key)
            switch parked.removeValue(forKey: job.seq) {
            case .lock: locks.stopWaiting(Set(job.lockKeys), for: key)
            case .rate(let rateKey, _): rateParked[rateKey]?.remove(key)
            case .slot(let lane, _): laneParked[lane]?.remove(key)
            case nil: break
            }
            fairRounds[job.seq] = nil
        default:
            preconditionFailure("only waiting jobs leave the scheduler this way, not \(job.state)")
        }
    }

    /// SCHEDULED jobs whose time has come, by seq (entries of jobs that
    /// changed since are skipped).
    mutating func dueJobs(atMs nowMs: Int64, jobs: JobTable) -> [Int64] {
        var due: [Int64] = []
        while let entry = timers.popDue(atMs: nowMs) {
            guard let job = jobs[entry.seq], job.state == .scheduled, job.runAtMs == entry.dueMs else { continue }
            due.append(entry.seq)
        }
        return due
    }

    /// A RUNNING job stopped: its worker, locks and queue slot free up.
    mutating func finished(_ job: JobRecord, nowMs: Int64) {
        queues[job.queue]?.running -= 1
        let key = key(of: job)
        if !fairRounds.isEmpty { fairRounds[job.seq] = nil }
        guard !job.lockKeys.isEmpty else { return }
        let keys = Set(job.lockKeys)
        locks.release(keys, for: key)
        for key in keys {
            // Only the best waiters can take the freed units (see LockTable).
            let free = locks.capacity(of: key) - locks.holders(of: key).count
            for waiter in locks.waiters(of: key, first: free) {
                guard case .lock(let queue) = parked[waiter.seq] else { continue }
                parked[waiter.seq] = nil
                queues[queue]?.unpark(waiter)
            }
        }
    }

    // MARK: Dispatch

    /// Picks jobs to start now while `slots` has places, visiting queues
    /// round-robin, and takes their place, queue slot, locks and tokens.
    /// Answers their seqs and places.
    mutating func nextJobs(slots: inout DispatchSlots, atMs nowMs: Int64, jobs: JobTable) -> [(seq: Int64, place: DispatchSlots.Place)] {
        guard !slots.isEmpty, !queueOrder.isEmpty else { return [] }
        refillRateParked(atMs: nowMs, jobs: jobs)
        var started: [(seq: Int64, place: DispatchSlots.Place)] = []
        var idleVisits = 0
        while !slots.isEmpty && idleVisits < queueOrder.count {
            let name = queueOrder[nextQueue]
            nextQueue = (nextQueue + 1) % queueOrder.count
            if let start = dispatchOne(from: name, slots: &slots, atMs: nowMs, jobs: jobs) {
                started.append(start)
                idleVisits = 0
            } else {
                idleVisits += 1
            }
        }
        return started
    }

    private mutating func dispatchOne(
        from name: String, slots: inout DispatchSlots, atMs nowMs: Int64, jobs: JobTable
    ) -> (seq: Int64, place: DispatchSlots.Place)? {
        // Taken out of the dictionary while it changes: one variable for the
        // many changes below, rather than an index into the dictionary at
        // each (its arrays stay uniquely referenced either way: no copies).
        guard var queue = queues.removeValue(forKey: name) else { return nil }
        defer { queues[name] = queue }
        guard !queue.paused, queue.running < queue.configuration.concurrency, !queue.candidates.isEmpty else { return nil }
        if let bucket = queue.bucket, bucket.tokens(atMs: nowMs) < 1 { return nil }
        while let key = queue.candidates.first {
            guard let job = jobs[key.seq] else { preconditionFailure("queued seq \(key.seq) has no job") }
            if !slots.hasPlace(for: job.type) {
                let lane = slots.lane(of: job.type)
                queue.park(key)
                laneParked[lane, default: ReadyQueue()].insert(key)
                parked[key.seq] = .slot(lane: lane, queue: name)
                continue
            }
            if let rateKey = job.rateKey, let bucket = rateBuckets[rateKey], !bucket.has(Self.cost(of: job, in: bucket), atMs: nowMs) {
                queue.park(key)
                rateParked[rateKey, default: ReadyQueue()].insert(key)
                parked[key.seq] = .rate(rateKey, queue: name)
                continue
            }
            if !job.lockKeys.isEmpty && !locks.acquire(Set(job.lockKeys), for: key) {
                queue.park(key)
                parked[key.seq] = .lock(queue: name)
                continue
            }
            if let rateKey = job.rateKey, let bucket = rateBuckets[rateKey] {
                let cost = Self.cost(of: job, in: bucket)
                if rateBuckets[rateKey]!.take(cost, atMs: nowMs) {
                    tokensTaken[rateKey, default: MinuteCounter()].add(Int(cost), atMs: nowMs)
                }
            }
            if queue.bucket?.take(atMs: nowMs) == true {
                tokensTaken["queue:" + name, default: MinuteCounter()].add(atMs: nowMs)
            }
            guard let place = slots.take(for: job.type) else { preconditionFailure("a place was there a moment ago") }
            queue.remove(key)
            queue.running += 1
            if queue.fairness != nil { queue.fairness!.reached = max(queue.fairness!.reached, key.round) }
            return (key.seq, place)
        }
        return nil
    }

    /// `count` places freed in `lane` (a job ended, a worker connected):
    /// as many of its parked jobs, best placed first, may be picked again.
    mutating func placesFreed(inLane lane: String, count: Int) {
        guard count > 0, var waiting = laneParked.removeValue(forKey: lane) else { return }
        var left = count
        while left > 0, let key = waiting.popFirst() {
            left -= 1
            if case .slot(_, let queue) = parked.removeValue(forKey: key.seq) { queues[queue]?.unpark(key) }
        }
        laneParked[lane] = waiting.isEmpty ? nil : waiting
    }

    /// Jobs parked for want of a place in `lane`.
    func parkedCount(inLane lane: String) -> Int {
        laneParked[lane]?.count ?? 0
    }

    /// Parked jobs of rate keys whose buckets have tokens again go back to
    /// their queues' candidates, best placed first, as many as the tokens
    /// pay for (each job its `rate_cost`): the first that cannot be paid for
    /// waits, and those behind it with it, so a costly job is not overtaken
    /// for ever by cheap ones.
    private mutating func refillRateParked(atMs nowMs: Int64, jobs: JobTable) {
        for rateKey in Array(rateParked.keys) {
            guard let bucket = rateBuckets[rateKey], var waiting = rateParked.removeValue(forKey: rateKey) else { continue }
            var tokens = bucket.tokens(atMs: nowMs)
            while let key = waiting.first {
                let cost = jobs[key.seq].map { Self.cost(of: $0, in: bucket) } ?? 1
                guard tokens >= cost - 1e-9 else { break }
                tokens -= cost
                _ = waiting.popFirst()
                if case .rate(_, let queue) = parked.removeValue(forKey: key.seq) { queues[queue]?.unpark(key) }
            }
            rateParked[rateKey] = waiting.isEmpty ? nil : waiting
        }
    }

    /// When the engine should next look again, if no job changes before:
    /// the earliest timer, or the earliest refill a waiting job needs.
    /// Refills matter only while a worker is free to use them.
    func nextWakeMs(atMs nowMs: Int64, workerFree: Bool, jobs: JobTable) -> Int64? {
        var wake = timers.earliest?.dueMs
        guard workerFree else { return wake }
        func consider(_ ms: Int64) { wake = min(wake ?? ms, ms) }
        for queue in queues.values where !queue.paused && !queue.candidates.isEmpty
            && queue.running < queue.configuration.concurrency {
            if let bucket = queue.bucket { consider(bucket.nextTokenMs(atMs: nowMs)) }
        }
        for (rateKey, waiting) in rateParked {
            guard let bucket = rateBuckets[rateKey], let first = waiting.first else { continue }
            consider(bucket.nextTokenMs(for: jobs[first.seq].map { Self.cost(of: $0, in: bucket) } ?? 1, atMs: nowMs))
        }
        return wake
    }

    /// The tokens `job` takes from `bucket`: its `rate_cost`, held to the
    /// bucket's burst (a job stored before the burst was lowered could
    /// otherwise never start).
    static func cost(of job: JobRecord, in bucket: TokenBucket) -> Double {
        min(Double(job.rateCost), bucket.burst)
    }

    // MARK: Adaptive rate limits

    /// A job's downstream said "rate limited, retry after": its buckets slow down.
    mutating func rateLimited(_ job: JobRecord, retryAfterMs: Int64, atMs nowMs: Int64) {
        if let rateKey = job.rateKey { rateBuckets[rateKey]?.rateLimited(atMs: nowMs, retryAfterMs: retryAfterMs) }
        queues[job.queue]?.bucket?.rateLimited(atMs: nowMs, retryAfterMs: retryAfterMs)
    }

    mutating func succeeded(_ job: JobRecord, atMs nowMs: Int64) {
        if let rateKey = job.rateKey { rateBuckets[rateKey]?.succeeded(atMs: nowMs) }
        queues[job.queue]?.bucket?.succeeded(atMs: nowMs)
    }
}

extension JobRecord {
    /// Where the job stands in its queue's order.
    var key: QueueKey { QueueKey(priority: priority, seq: seq) }
}

extension Scheduler {
    /// What holds a waiting job back, from what the scheduler keeps: its
    /// queue's pause, the lock and rate tables, its parking for want of a
    /// place, its queue's concurrency and bucket, its rank (`position`,
    /// already known to the caller). O(log n): no scan. `noPlace` tells why
    /// no place for a lane is free, if none is (the engine knows).
    func waitReason(
        _ job: JobRecord, position: Int, atMs nowMs: Int64, holderIDs: ([QueueKey]) -> [String],
        noPlace: (String) -> WaitReason?
    ) -> WaitReason? {
        switch job.state {
        case .scheduled:
            return WaitReason(.runAt, untilMs: job.runAtMs)
        case .queued:
            break
        default:
            return nil
        }
        guard let queue = queues[job.queue] else { return nil }
        let ahead = max(0, position - 1)
        if queue.paused { return WaitReason(.paused, ahead: ahead, queue: job.queue) }
        // Parked for a lock or a token, or not tried since one was taken: the same answer.
        let own = self.key(of: job)
        for key in job.lockKeys where !locks.isAvailable(key, to: own) {
            return WaitReason(.lock, key: key, holders: holderIDs(locks.holders(of: key).sorted()),
                              ahead: locks.waitersAhead(of: own, for: key) ?? 0)
        }
        if let key = job.rateKey, let bucket = rateBuckets[key], !bucket.has(Self.cost(of: job, in: bucket), atMs: nowMs) {
            return WaitReason(.rate, key: key, untilMs: bucket.nextTokenMs(for: Self.cost(of: job, in: bucket), atMs: nowMs))
        }
        if case .slot(let lane, _)? = parked[job.seq], let reason = noPlace(lane) { return reason }
        if queue.running >= queue.configuration.concurrency {
            return WaitReason(.queueConcurrency, ahead: ahead, queue: job.queue, limit: queue.configuration.concurrency)
        }
        if let bucket = queue.bucket, bucket.tokens(atMs: nowMs) < 1 {
            return WaitReason(.rate, key: "queue:" + job.queue, ahead: ahead, untilMs: bucket.nextTokenMs(atMs: nowMs))
        }
        if ahead > 0 { return WaitReason(.behind, ahead: ahead, queue: job.queue) }
        if let reason = noPlace(DispatchSlots.lane(ofType: job.type, remoteTypes: configuration.remoteTypes)) { return reason }
        return WaitReason(.behind, queue: job.queue)
    }
}
