/// The engine's subscribers and its recent events (docs/design.md §4). Lives
/// inside `QueueEngine`; every method runs on the engine's actor.
///
/// Each event gets the next global seq. State and progress events are kept
/// in a ring of the last `replayLimit`, so a stream resuming with
/// `after_seq` first gets what it missed.
struct EventHub {
    /// What a position event told a stream of one job.
    struct PositionMark: Equatable {
        var position: Int
        var wait: WaitReason.Kind?
        var key: String
    }

    struct Subscriber {
        let selection: Selection
        let subscription: Subscription
        /// Selected job ids not yet terminal (job selections only).
        var open: Set<JobID>
        let positionIntervalMs: Int64
        var nextPositionMs: Int64 = 0
        var sentPositions: [JobID: PositionMark] = [:]
    }

    private(set) var lastSeq: UInt64
    private var ring: [JobEvent] = []
    private var ringStart = 0
    private let replayLimit: Int
    private(set) var subscribers: [ObjectIdentifier: Subscriber] = [:]
    private var byJob: [JobID: Set<ObjectIdentifier>] = [:]
    private var byBatch: [String: Set<ObjectIdentifier>] = [:]
    private var byQueue: [String: Set<ObjectIdentifier>] = [:]
    private var everything: Set<ObjectIdentifier> = []

    /// Seqs start above any of an earlier run of the server, as long as it
    /// averaged under about a million events a second: a stream that
    /// resumes across a restart still sees seqs grow.
    /// What every subscriber's unsent events may take together.
    let budget: SubscriberBudget

    init(nowMs: Int64, replayLimit: Int, bufferBytes: Int = .max) {
        lastSeq = UInt64(max(0, nowMs)) << 10
        self.replayLimit = replayLimit
        budget = SubscriberBudget(limitBytes: bufferBytes)
    }

    mutating func nextSeq() -> UInt64 {
        lastSeq += 1
        return lastSeq
    }

    /// Gives `event` the next seq and hands it to every subscriber that
    /// selects its job. Answers the subscribers whose selection it ended.
    mutating func publish(_ event: JobEvent) {
        var event = event
        event.seq = nextSeq()
        if event.kind == .state || event.kind == .progress { remember(event) }
        guard !subscribers.isEmpty else { return }
        let record = event.job.record
        var targets = byJob[record.jobID] ?? []
        if let batch = record.batchId, let subscribers = byBatch[batch] { targets.formUnion(subscribers) }
        if let subscribers = byQueue[record.queue] { targets.formUnion(subscribers) }
        targets.formUnion(everything)
        for id in targets {
            guard var subscriber = subscribers[id] else { continue }
            subscriber.subscription.push(event)
            guard event.kind == .state, record.state.isTerminal else { continue }
            switch subscriber.selection {
            case .jobs:
                subscriber.open.remove(record.jobID)
                subscribers[id] = subscriber
                if subscriber.open.isEmpty { remove(id) }
            case .batch:
                if let summary = event.batch, summary.counts.unfinished == 0 { remove(id) }
            case .queue, .all:
                break
            }
        }
        enforceBudget()
    }

    /// While the subscribers' unsent events take more than the budget, ends
    /// the stream furthest behind.
    mutating func enforceBudget() {
        while budget.isSpent, endFurthestBehind() {}
    }

    /// Ends the stream with the most bytes unsent, as too slow (its reader
    /// may resume with `after_seq`). False if no stream holds any.
    private mutating func endFurthestBehind() -> Bool {
        var furthest: (id: ObjectIdentifier, bytes: Int)?
        for (id, subscriber) in subscribers {
            let bytes = subscriber.subscription.pendingBytes
            if bytes > furthest?.bytes ?? 0 { furthest = (id, bytes) }
        }
        guard let furthest, let subscriber = subscribers[furthest.id] else { return false }
        subscriber.subscription.endTooSlow()
        remove(furthest.id)
        return true
    }

    /// Remembered events after `seq` that `selection` selects, oldest first.
    func replay(after seq: UInt64, for selection: Selection) -> [JobEvent] {
        guard seq < lastSeq else { return [] }
        let ids: Set<JobID> = if case .jobs(let ids) = selection { Set(ids.map { JobID($0) }) } else { [] }
        return Array((0..<ring.count).lazy
            .map { ring[(ringStart + $0) % ring.count] }
            .filter { $0.seq > seq }
            .filter { event in
                switch selection {
                case .jobs: ids.contains(event.job.record.jobID)
                case .batch(let batch): event.job.record.batchId == batch
                case .queue(let queue): event.job.record.queue == queue
                case .all: true
                }
            })
    }

    mutating func add(_ subscriber: Subscriber) {
        let id = ObjectIdentifier(subscriber.subscription)
        subscribers[id] = subscriber
        switch subscriber.selection {
        case .jobs(let jobs): for job in jobs { byJob[JobID(job), default: []].insert(id) }
        case .batch(let batch): byBatch[batch, default: []].insert(id)
        case .queue(let queue): byQueue[queue, default: []].insert(id)
        case .all: everything.insert(id)
        }
    }

    /// Ends `id`'s stream after what it has been sent, and forgets it.
    mutating func remove(_ id: ObjectIdentifier, reason: Subscription.EndReason = .finished) {
        guard let subscriber = subscribers.removeValue(forKey: id) else { return }
        switch subscriber.selection {
        case .jobs(let jobs): for job in jobs { byJob.remove(id, from: JobID(job)) }
        case .batch(let batch): byBatch.remove(id, from: batch)
        case .queue(let queue): byQueue.remove(id, from: queue)
        case .all: everything.remove(id)
        }
        subscriber.subscription.finish(reason)
    }

    mutating func update(_ id: ObjectIdentifier, _ body: (inout Subscriber) -> Void) {
        guard var subscriber = subscribers[id] else { return }
        body(&subscriber)
        subscribers[id] = subscriber
    }

    private mutating func remember(_ event: JobEvent) {
        guard replayLimit > 0 else { return }
        if ring.count < replayLimit {
            ring.append(event)
        } else {
            ring[ringStart] = event
            ringStart = (ringStart + 1) % replayLimit
        }
    }
}

private extension Dictionary where Value == Set<ObjectIdentifier> {
    mutating func remove(_ subscriber: ObjectIdentifier, from key: Key) {
        self[key]?.remove(subscriber)
        if self[key]?.isEmpty == true { self[key] = nil }
    }
}
