/// Grouped writes of job changes (docs/design.md §5). Lives inside
/// `QueueEngine`. Intermediate marks (RUNNING, progress, a retry's
/// SCHEDULED) are written behind; a terminal state's event waits until its
/// write is committed. One write is in flight at a time and carries every
/// change made meanwhile, one record per job (the latest), so the store sees
/// a job's changes in order and commits many jobs at once.
struct Completer {
    /// An event to publish once its job's write is committed.
    struct Held {
        var event: JobEvent
        var seq: Int64
    }

    private var records: [Int64: JobRecord] = [:]
    private var held: [Held] = []
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var inFlight = false

    /// Writes `record` in the next group; publishes `event` after that commit.
    mutating func add(_ record: JobRecord, holding event: JobEvent? = nil) {
        records[record.seq] = record
        if let event { held.append(Held(event: event, seq: record.seq)) }
    }

    /// Calls back once everything added so far is committed.
    mutating func notify(_ waiter: CheckedContinuation<Void, Never>) {
        waiters.append(waiter)
    }

    /// The next group to write, if none is in flight.
    mutating func takeGroup() -> Group? {
        guard !inFlight, !records.isEmpty || !waiters.isEmpty else { return nil }
        inFlight = true
        defer { records = [:]; held = []; waiters = [] }
        return Group(records: Array(records.values), held: held, waiters: waiters)
    }

    /// The group's write ended: on failure its records go back (unless a
    /// later change replaced them) to be written with the next group.
    mutating func finished(_ group: Group, committed: Bool) {
        inFlight = false
        guard !committed else { return }
        for record in group.records where records[record.seq] == nil { records[record.seq] = record }
        held = group.held + held
        waiters = group.waiters + waiters
    }

    struct Group: Sendable {
        let records: [JobRecord]
        let held: [Held]
        let waiters: [CheckedContinuation<Void, Never>]
    }
}
