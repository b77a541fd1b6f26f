// Cron schedules (docs/workflows.md#schedules). Each fire enqueues the
// schedule's job through the same path as a client's Enqueue, with the
// idempotency key `schedule:NAME:FIRE_MS`; its fire time is stored once the
// job is committed. A crash between the two fires the same time again at
// start, and the key answers the job already made: a fire never makes two
// jobs. Fire times come from the wake timer, as every other timer's do.

extension QueueEngine {
    /// A configured schedule while the engine runs.
    struct LiveSchedule {
        let schedule: Schedule
        var nextFireMs: Int64?
        var lastFireMs: Int64?
        var lastJobID: String?
        var fired = 0
        var skipped = 0
        var lastError = ""
    }

    /// At start-up: each schedule's next fire from its stored last one, and
    /// the missed fire to run at once (by its `missed` policy), if any.
    func loadSchedules(atMs now: Int64) async throws(EngineError) -> [(name: String, fireMs: Int64)] {
        guard !configuration.schedules.isEmpty else { return [] }
        let records: [String: ScheduleRecord]
        do { records = try await store.scheduleRecords() } catch { throw .storage("cannot load the schedules: \(error)") }
        var missed: [(name: String, fireMs: Int64)] = []
        for schedule in configuration.schedules {
            var live = LiveSchedule(schedule: schedule)
            let record = records[schedule.name]
            live.lastFireMs = record?.lastFireMs
            live.lastJobID = record?.lastJobID
            // Never fired: from now on, nothing to catch up.
            if let last = record?.lastFireMs, let latest = latestFire(of: schedule, after: last, upToMs: now) {
                if schedule.missed == .runOnce { missed.append((schedule.name, latest)) }
            }
            live.nextFireMs = schedule.cron.nextFire(afterMs: now, in: schedule.timeZone)
            schedules[schedule.name] = live
        }
        return missed
    }

    /// The latest fire time after `afterMs` and at or before `upToMs`, if
    /// any (at most 100,000 fire times are stepped through; past that, the
    /// last one reached).
    private func latestFire(of schedule: Schedule, after afterMs: Int64, upToMs: Int64) -> Int64? {
        var latest: Int64?
        var cursor = afterMs
        for _ in 0..<100_000 {
            guard let next = schedule.cron.nextFire(afterMs: cursor, in: schedule.timeZone), next <= upToMs else { break }
            latest = next
            cursor = next
        }
        return latest
    }

    /// Fires the schedules whose time has come (from `pump`): once each,
    /// for the latest fire time passed, however many passed since.
    func fireDueSchedules(atMs now: Int64) {
        for name in schedules.keys.sorted() {
            guard let live = schedules[name], let due = live.nextFireMs, due <= now else { continue }
            let fireMs = latestFire(of: live.schedule, after: due, upToMs: now) ?? due
            schedules[name]?.nextFireMs = live.schedule.cron.nextFire(afterMs: now, in: live.schedule.timeZone)
            fire(name, atMs: fireMs)
        }
    }

    /// The earliest fire time to wake for.
    var nextScheduleFireMs: Int64? { schedules.values.compactMap(\.nextFireMs).min() }

    /// One fire of schedule `name`, for fire time `fireMs`.
    func fire(_ name: String, atMs fireMs: Int64) {
        guard let live = schedules[name] else { return }
        if live.schedule.overlap == .skip, let last = live.lastJobID, let record = table.record(id: last), !record.state.isTerminal {
            schedules[name]?.skipped += 1
            schedules[name]?.lastError = "skipped the fire at \(fireMs): job \(last) had not ended (overlap: skip)"
            recordFire(fireMs, job: last, ofSchedule: name)
            return
        }
        var request = live.schedule.job
        request.idempotencyKey = "schedule:\(name):\(fireMs)"
        request.labels["schedule"] = name
        enqueue([request], batch: nil) { [self] result in
            Task { await self.fired(name, atMs: fireMs, result) }
        }
    }

    private func fired(_ name: String, atMs fireMs: Int64, _ result: Result<EnqueueResult, EngineError>) {
        switch result {
        case .success(let answer):
            let id = answer.items[0].job.record.id
            schedules[name]?.fired += 1
            schedules[name]?.lastError = ""
            recordFire(fireMs, job: id, ofSchedule: name)
        case .failure(let error):
            // Refused (a full queue, a shutdown): this fire makes no job; the next one tries again.
            schedules[name]?.skipped += 1
            schedules[name]?.lastError = "the fire at \(fireMs) made no job: \(error)"
            recordFire(fireMs, job: schedules[name]?.lastJobID, ofSchedule: name)
        }
    }

    /// Keeps the fire in memory and in the store (behind: a crash before it
    /// is stored fires the same time again, deduplicated by its key).
    private func recordFire(_ fireMs: Int64, job: String?, ofSchedule name: String) {
        guard var live = schedules[name] else { return }
        live.lastFireMs = max(live.lastFireMs ?? fireMs, fireMs)
        live.lastJobID = job
        schedules[name] = live
        let record = ScheduleRecord(lastFireMs: live.lastFireMs ?? fireMs, lastJobID: job)
        let store = self.store
        Task.detached { try? await store.save(record, forSchedule: name) }
    }

    func scheduleStatuses() -> [ScheduleStatus] {
        schedules.keys.sorted().compactMap { name in
            guard let live = schedules[name] else { return nil }
            return ScheduleStatus(
                name: name, cron: live.schedule.cron.description, timeZone: live.schedule.timeZoneName,
                overlap: live.schedule.overlap, nextFireMs: live.nextFireMs ?? 0, lastFireMs: live.lastFireMs ?? 0,
                lastJobID: live.lastJobID ?? "", fired: live.fired, skipped: live.skipped, lastError: live.lastError)
        }
    }
}
