import Testing
import SpoolCore

private func job(_ seq: Int64, priority: Int32 = 0) -> QueueKey { QueueKey(priority: priority, seq: seq) }

/// The table behind a reference, so that `#expect` can call its mutating methods.
private final class Locks {
    var table: LockTable
    init(_ capacities: [String: Int] = [:]) { table = LockTable(capacities: capacities) }
    func acquire(_ keys: Set<String>, for job: QueueKey) -> Bool { table.acquire(keys, for: job) }
    func release(_ keys: Set<String>, for job: QueueKey) { table.release(keys, for: job) }
    func stopWaiting(_ keys: Set<String>, for job: QueueKey) { table.stopWaiting(keys, for: job) }
    func waiters(of key: String) -> [QueueKey] { table.waiters(of: key, first: .max) }
    func holders(of key: String) -> Set<QueueKey> { table.holders(of: key) }
    var keys: [String] { table.keys }
}

struct LockTableTests {
    @Test func aKeyIsHeldByOneJobAtATimeByDefault() {
        let locks = Locks()
        #expect(locks.acquire(["repo"], for: job(1)))
        #expect(!locks.acquire(["repo"], for: job(2)))
        locks.release(["repo"], for: job(1))
        #expect(locks.acquire(["repo"], for: job(2)))
        #expect(locks.holders(of: "repo") == [job(2)])
    }

    @Test func aConfiguredCapacityAdmitsThatManyHolders() {
        let locks = Locks(["gpu": 2])
        #expect(locks.acquire(["gpu"], for: job(1)))
        #expect(locks.acquire(["gpu"], for: job(2)))
        #expect(!locks.acquire(["gpu"], for: job(3)))
        #expect(locks.holders(of: "gpu").count == 2)
    }

    @Test func keysAreTakenAllOrNothing() {
        let locks = Locks()
        #expect(locks.acquire(["b"], for: job(1)))
        #expect(!locks.acquire(["a", "b"], for: job(2)))
        #expect(locks.holders(of: "a").isEmpty, "a job that cannot have every key holds none")
        locks.release(["b"], for: job(1))
        #expect(locks.acquire(["a", "b"], for: job(2)))
        #expect(locks.waiters(of: "a").isEmpty && locks.waiters(of: "b").isEmpty)
    }

    @Test func aBlockedJobDoesNotBlockJobsNeedingOtherKeys() {
        let locks = Locks()
        #expect(locks.acquire(["gpu"], for: job(1)))
        #expect(!locks.acquire(["gpu"], for: job(2)))
        #expect(locks.acquire(["app-a/files"], for: job(3)))
        #expect(locks.acquire([], for: job(4)))
    }

    @Test func aWaitingJobIsNotStarvedByWorseRankedJobs() {
        let locks = Locks()
        #expect(locks.acquire(["a"], for: job(1)))
        // Job 2 needs a and b; b is free, but job 2 must wait for a.
        #expect(!locks.acquire(["a", "b"], for: job(2)))
        // Job 3 ranks below job 2 and wants b: b is promised to job 2.
        #expect(!locks.acquire(["b"], for: job(3)))
        locks.release(["a"], for: job(1))
        #expect(locks.waiters(of: "b") == [job(2), job(3)], "best first")
        #expect(locks.table.waiterCount(of: "b") == 2 && locks.table.waiterCount(of: "c") == 0)
        #expect(locks.acquire(["a", "b"], for: job(2)))
        locks.release(["a", "b"], for: job(2))
        #expect(locks.acquire(["b"], for: job(3)))
    }

    @Test func betterRankedJobsMayPassAWaiter() {
        let locks = Locks()
        #expect(locks.acquire(["a"], for: job(1)))
        #expect(!locks.acquire(["a", "b"], for: job(5)))
        // Higher priority outranks the waiter, so b is not promised against it.
        #expect(locks.acquire(["b"], for: job(6, priority: 9)))
    }

    @Test func spareCapacityBeyondWhatWaitersNeedIsUsable() {
        let locks = Locks(["gpu": 2])
        #expect(locks.acquire(["x"], for: job(1)))
        #expect(!locks.acquire(["gpu", "x"], for: job(2)))   // waits for x, is promised one gpu
        #expect(locks.acquire(["gpu"], for: job(3)))          // the other gpu is free for anyone
        #expect(!locks.acquire(["gpu"], for: job(4)))         // none left beyond job 2's promise
    }

    @Test func aCancelledWaiterStopsHoldingItsPromise() {
        let locks = Locks()
        #expect(locks.acquire(["a"], for: job(1)))
        #expect(!locks.acquire(["a", "b"], for: job(2)))
        #expect(!locks.acquire(["b"], for: job(3)))
        locks.stopWaiting(["a", "b"], for: job(2))
        #expect(locks.acquire(["b"], for: job(3)))
    }

    @Test func unusedKeysAreForgotten() {
        let locks = Locks()
        #expect(locks.acquire(["a", "b"], for: job(1)))
        #expect(locks.keys == ["a", "b"])
        locks.release(["a", "b"], for: job(1))
        #expect(locks.keys.isEmpty)
    }
}
