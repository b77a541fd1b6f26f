/// A job's life (docs/design.md §2). The raw values are `spool.v1.JobState`'s.
///
/// ```
/// BLOCKED ──dependencies met──▶ SCHEDULED or QUEUED     (a dependency failed: CANCELLED)
///
/// SCHEDULED ──run_at reached──▶ QUEUED ──dispatched──▶ RUNNING ──▶ SUCCEEDED | FAILED | CANCELLED
///     ▲                           │ cancel                │ retryable failure, attempts left
///     └───────────────────────────┼───────────────────────┘
///                                 ▼
///                             CANCELLED
/// ```
/// A waiting job (BLOCKED, SCHEDULED or QUEUED) still waiting at its
/// `expire_at_ms` becomes FAILED.
public enum JobState: Int32, Sendable, CaseIterable {
    case scheduled = 1
    case queued = 2
    case running = 3
    case succeeded = 4
    case failed = 5
    case cancelled = 6
    /// Waits for its dependencies (`depends_on`) to end.
    case blocked = 7

    /// No event follows a terminal state.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        case .blocked, .scheduled, .queued, .running: false
        }
    }

    /// What can happen to a job.
    public enum Event: Sendable, CaseIterable {
        case runAtReached
        case dispatched
        case succeeded
        /// A retryable failure (or a timeout, or an interrupted run) with attempts left.
        case retry
        /// A permanent failure, or the last attempt failed.
        case failed
        /// SCHEDULED and QUEUED jobs at once; RUNNING ones once their handler stopped.
        case cancelled
        /// Restart recovery: a RUNNING job whose run was interrupted, attempts left.
        case requeued
        /// Every dependency of a BLOCKED job ended as it needs.
        case released
        /// `released`, before its run_at.
        case releasedBeforeRunAt
    }

    /// The state `event` leads to, or nil if the event cannot happen in this
    /// state. The only place the transitions are written down.
    public func after(_ event: Event) -> JobState? {
        switch (self, event) {
        case (.scheduled, .runAtReached): .queued
        case (.queued, .dispatched): .running
        case (.running, .succeeded): .succeeded
        case (.running, .retry): .scheduled
        case (.running, .failed): .failed
        case (.running, .requeued): .queued
        case (.blocked, .released): .queued
        case (.blocked, .releasedBeforeRunAt): .scheduled
        case (.blocked, .cancelled), (.scheduled, .cancelled), (.queued, .cancelled), (.running, .cancelled): .cancelled
        default: nil
        }
    }
}
