#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A cron schedule (docs/workflows.md#schedules): `job` is enqueued at each
/// fire time of `cron` in `timeZone`.
public struct Schedule: Sendable, Equatable {
    /// What a fire does while the job of the last fire has not ended.
    public enum Overlap: String, Sendable, Equatable, CaseIterable {
        /// Nothing: the fire is counted as skipped.
        case skip
        /// Enqueues another job anyway.
        case allow
    }

    /// What a start does about fire times it missed while the server was down.
    public enum Missed: String, Sendable, Equatable, CaseIterable {
        /// One job for the latest missed fire time, at once.
        case runOnce = "run_once"
        /// Nothing: the next fire time after now.
        case skip
    }

    public var name: String
    public var cron: CronExpression
    public var timeZone: TimeZone
    /// The zone as configured ("UTC": Foundation calls it GMT).
    public var timeZoneName: String
    public var job: JobRequest
    public var overlap = Overlap.skip
    public var missed = Missed.runOnce

    public init(name: String, cron: CronExpression, timeZone: TimeZone = TimeZone(identifier: "UTC")!, timeZoneName: String? = nil,
                job: JobRequest, overlap: Overlap = .skip, missed: Missed = .runOnce) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.timeZoneName = timeZoneName ?? (timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier)
        self.job = job
        self.overlap = overlap
        self.missed = missed
    }
}

/// What the store keeps of a schedule: its last fire, and the job it made.
public struct ScheduleRecord: Sendable, Equatable {
    public var lastFireMs: Int64
    public var lastJobID: String?

    public init(lastFireMs: Int64, lastJobID: String?) {
        self.lastFireMs = lastFireMs
        self.lastJobID = lastJobID
    }
}

/// A schedule as `GetStatus` shows it.
public struct ScheduleStatus: Sendable, Equatable {
    public var name: String
    public var cron: String
    public var timeZone: String
    public var overlap: Schedule.Overlap
    /// 0: none within eight years.
    public var nextFireMs: Int64
    /// 0: never fired.
    public var lastFireMs: Int64
    public var lastJobID: String
    /// Fires since the server started that made a job, and that did not
    /// (the last job had not ended, or the job was refused: `lastError`).
    public var fired: Int
    public var skipped: Int
    public var lastError: String
}
