#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The engine's time: milliseconds since the Unix epoch, UTC, and waiting
/// until such a time. Injected, so engine tests run on a `ManualClock`.
/// (Named so as not to shadow the standard library's `Clock`.)
public protocol WallClock: Sendable {
    var nowMs: Int64 { get }
    /// Returns at `deadlineMs` or later; throws CancellationError if cancelled first.
    func sleep(untilMs deadlineMs: Int64) async throws
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
    public init() {}

    public var nowMs: Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Sleeps a day at most at a time, so that a far deadline (year 9999)
    /// is no huge duration for the runtime, and a clock set forward is seen.
    public func sleep(untilMs deadlineMs: Int64) async throws {
        var wait = deadlineMs.saturatingAdd(-nowMs)
        while wait > 0 {
            try await Task.sleep(for: .milliseconds(min(wait, 86_400_000)))
            wait = deadlineMs.saturatingAdd(-nowMs)
        }
    }
}

/// A clock that moves only when told to: sleepers wake, in deadline order,
/// when `advance` reaches their deadline.
public final class ManualClock: WallClock {
    private struct Sleeper {
        let deadlineMs: Int64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var nowMs: Int64
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
        /// Tests waiting for someone to sleep until a given time.
        var watchers: [(deadlineMs: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>

    public init(nowMs: Int64 = 1_700_000_000_000) {
        state = Mutex(State(nowMs: nowMs))
    }

    public var nowMs: Int64 { state.withLock { $0.nowMs } }

    /// How many tasks are asleep on this clock (tests wait for them to settle).
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func advance(byMs milliseconds: Int64) {
        precondition(milliseconds >= 0, "a manual clock does not go back")
        let due = state.withLock { state -> [Sleeper] in
            state.nowMs += milliseconds
            let now = state.nowMs
            let due = state.sleepers.filter { $0.value.deadlineMs <= now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return due.values.sorted { $0.deadlineMs < $1.deadlineMs }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Returns once a task is asleep until exactly `deadlineMs`, so a test can
    /// advance the clock knowing who will wake.
    public func waitForSleeper(untilMs deadlineMs: Int64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let asleep = state.withLock { state in
                if state.sleepers.values.contains(where: { $0.deadlineMs == deadlineMs }) { return true }
                state.watchers.append((deadlineMs, continuation))
                return false
            }
            if asleep { continuation.resume() }
        }
    }

    public func sleep(untilMs deadlineMs: Int64) async throws {
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resumeNow, watchers) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if deadlineMs <= state.nowMs || Task.isCancelled { return (true, []) }
                    state.sleepers[id] = Sleeper(deadlineMs: deadlineMs, continuation: continuation)
                    let watching = state.watchers.filter { $0.deadlineMs == deadlineMs }.map(\.continuation)
                    state.watchers.removeAll { $0.deadlineMs == deadlineMs }
                    return (false, watching)
                }
                for watcher in watchers { watcher.resume() }
                if resumeNow {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
