/// Mutual exclusion by lock keys (docs/design.md §3): a job runs only when it can
/// take every one of its keys at once, so no job ever holds some keys while
/// waiting for others (no deadlock). A key's capacity is 1 unless configured
/// (`gpu: 2`).
///
/// No starvation: a job that could not start waits on each of its keys, and
/// the capacity of a key is promised to its waiters in rank order: a job may
/// take a key only while more of it is free than better-ranked jobs wait for.
/// No head-of-line blocking: jobs whose keys no better-ranked job waits for
/// start regardless of what waits elsewhere.
///
/// Jobs are named by their `QueueKey`, whose order is also their rank.
public struct LockTable {
    private struct Lock {
        var capacity: Int
        var holders: Set<QueueKey> = []
        var waiters = ReadyQueue()

        /// Free units this job may take, after those promised to better waiters.
        func isAvailable(to job: QueueKey) -> Bool {
            capacity - holders.count > waiters.countBefore(job)
        }
    }

    private var locks: [String: Lock] = [:]
    private let capacities: [String: Int]

    public init(capacities: [String: Int] = [:]) {
        precondition(capacities.values.allSatisfy { $0 >= 1 }, "lock capacities are at least 1")
        self.capacities = capacities
    }

    public func capacity(of key: String) -> Int { capacities[key] ?? 1 }

    /// Takes every key for `job`, or none: then `job` waits on each of them
    /// (until it takes them, or `stopWaiting`).
    public mutating func acquire(_ keys: Set<String>, for job: QueueKey) -> Bool {
        let available = keys.allSatisfy { key in
            locks[key, default: Lock(capacity: capacity(of: key))].isAvailable(to: job)
        }
        for key in keys {
            // Taken out while it changes, so its waiters are not copied on write.
            var lock = locks.removeValue(forKey: key) ?? Lock(capacity: capacity(of: key))
            if available {
                lock.waiters.remove(job)
                lock.holders.insert(job)
            } else if !lock.waiters.contains(job) {
                lock.waiters.insert(job)
            }
            locks[key] = lock
        }
        return available
    }

    /// Gives back what `job` holds. The caller then retries the best waiters.
    public mutating func release(_ keys: Set<String>, for job: QueueKey) {
        for key in keys {
            guard var lock = locks.removeValue(forKey: key) else { continue }
            lock.holders.remove(job)
            store(lock, for: key)
        }
    }

    /// `job` no longer waits (cancelled, or its lock keys changed).
    public mutating func stopWaiting(_ keys: Set<String>, for job: QueueKey) {
        for key in keys {
            guard var lock = locks.removeValue(forKey: key) else { continue }
            lock.waiters.remove(job)
            store(lock, for: key)
        }
    }

    /// How many jobs wait on `key`; O(1).
    public func waiterCount(of key: String) -> Int { locks[key]?.waiters.count ?? 0 }

    /// The best `count` jobs waiting on `key`: the ones to retry when it frees.
    public func waiters(of key: String, first count: Int) -> [QueueKey] {
        guard let waiters = locks[key]?.waiters, count > 0, !waiters.isEmpty else { return [] }
        return (1...min(count, waiters.count)).compactMap { waiters.key(at: $0) }
    }

    public func holders(of key: String) -> Set<QueueKey> { locks[key]?.holders ?? [] }

    /// Whether `job` could take `key` now.
    func isAvailable(_ key: String, to job: QueueKey) -> Bool {
        locks[key]?.isAvailable(to: job) ?? true
    }

    /// How many of `key`'s waiters come before `job` (nil: it does not wait for it).
    func waitersAhead(of job: QueueKey, for key: String) -> Int? {
        locks[key]?.waiters.position(of: job).map { $0 - 1 }
    }

    /// Every key in use, for status pages.
    public var keys: [String] { locks.keys.sorted() }

    /// Forgets keys nobody holds or waits for, so the table stays as small as the work.
    private mutating func store(_ lock: Lock, for key: String) {
        locks[key] = lock.holders.isEmpty && lock.waiters.isEmpty ? nil : lock
    }
}
