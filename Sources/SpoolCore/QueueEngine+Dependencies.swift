// Dependencies (docs/design.md §3, "Dependencies and batches"): a BLOCKED job waits for jobs and
// batches to end. Each dependency that has not ended is an edge, kept by
// the engine from the dependency to its dependents (`dependents`,
// `batchDependents`); a dependent counts its edges (`Blocking.pending`).
// When a dependency ends, each dependent hears it once: the last success
// releases it to QUEUED (or SCHEDULED), a failure cancels it unless it runs
// anyway. Ended dependencies are told through a worklist, not recursion:
// cancelling a chain of 100,000 jobs takes no stack.
//
// An edge is made only to a dependency that has not ended. One that ended
// before (in memory with its end uncommitted, or read from the store:
// ends are final) counts at once. After a restart, the edges are made
// again from each BLOCKED job's stored dependencies.

import Foundation

extension QueueEngine {
    /// What a BLOCKED job (or one on its way into the store that will be)
    /// still waits for.
    struct Blocking {
        /// Dependencies that have not ended.
        var pending: Int
        var runIfFailed: Bool
        /// The first dependency that failed, for the note ("job X FAILED").
        var failure: String?
        /// It waits for batches: it is released with their summary.
        var waitsForBatches: Bool
        /// Committed and in the table: it can be released or cancelled.
        var stored = false
    }

    /// One ended dependency and the jobs to tell.
    struct EndedDependency {
        var dependents: [Int64]
        /// "job X" or "batch X".
        var name: String
        var succeeded: Bool
        /// "FAILED", or "ended with 2 of 10 jobs not succeeded".
        var outcome: String
    }

    /// What a call's requests found of their dependencies and parents
    /// that are no longer in memory: read from the store before the call
    /// is taken in (ends are final, so a read stays true).
    struct Lookups: Sendable {
        /// Ended jobs by id: their final state.
        var jobs: [String: JobState] = [:]
        /// Batches that ended, by id: their counts.
        var batches: [String: StateCounts] = [:]
        /// Rounds of reading so far (a job committed but not yet taken in
        /// is neither in memory nor ended: read again).
        var rounds = 0
        /// The batch's idempotency key was looked up in the store.
        var batchKeyRead = false
        /// The batch it named there, if any.
        var keyedBatch: KeyedBatch?
    }

    // MARK: Taking in

    /// The dependencies of a call's requests that are neither in memory
    /// nor already looked up: ids and batch ids to read from the store.
    func missingDependencies(of requests: [JobRequest], callback: JobRequest?, lookups: Lookups)
        -> (jobs: Set<String>, batches: Set<String>) {
        var jobs = Set<String>(), batchIDs = Set<String>()
        func gather(_ request: JobRequest) {
            for id in request.dependsOn where table.seq(ofJob: id) == nil && lookups.jobs[id] == nil { jobs.insert(id) }
            for id in request.dependsOnBatches where batches[id] == nil && lookups.batches[id] == nil { batchIDs.insert(id) }
        }
        for index in requests.indices where requests[index].hasDependencies { gather(requests[index]) }
        if let callback, callback.hasDependencies { gather(callback) }
        return (jobs, batchIDs)
    }

    /// Reads the missing dependencies from the store: each must exist, and
    /// (not being in memory) has ended. Throws naming the first unknown one.
    nonisolated func lookUp(jobs: Set<String>, batches batchIDs: Set<String>, into lookups: inout Lookups)
        async throws(EngineError) {
        lookups.rounds += 1
        for id in jobs.sorted() {
            let record: JobRecord?
            do { record = try await store.job(id: id) } catch { throw .storage("cannot read job \(id): \(error)") }
            guard let record else { throw .invalidArgument("depends_on names no job \"\(Self.shown(id))\"") }
            // Not ended: committed but not yet in memory; the next round finds it there.
            if record.state.isTerminal { lookups.jobs[id] = record.state }
        }
        for id in batchIDs.sorted() {
            let counts: StateCounts
            do { counts = try await store.stateCounts(ofBatch: id) } catch { throw .storage("cannot read batch \(id): \(error)") }
            guard counts.total > 0 else { throw .invalidArgument("depends_on_batches names no batch \"\(Self.shown(id))\"") }
            if counts.unfinished == 0 { lookups.batches[id] = counts }
        }
    }

    nonisolated static func shown(_ id: String) -> String { id.utf8.count > 64 ? String(id.prefix(40)) + "…" : id }

    /// Makes the edges of a new job's dependencies, or counts those that
    /// ended. `items`: the jobs of the call's earlier requests (a new one's
    /// seq is not in the table yet). Sets the record's dependencies, and
    /// BLOCKED if it must wait.
    func linkDependencies(
        of record: inout JobRecord, _ request: JobRequest, items: [(id: JobID, seq: Int64)], lookups: Lookups,
        extraBatch: String? = nil
    ) {
        var blocking = Blocking(pending: 0, runIfFailed: request.runIfDependenciesFail, waitsForBatches: false)
        // Each dependency once, however often it is named (up to 1,000 a job: sets, not scans).
        var jobIDs: [String] = []
        var linked = Set<Int64>(), linkedIDs = Set<String>()
        func ended(_ name: String, succeeded: Bool, outcome: String) {
            if !succeeded && !blocking.runIfFailed && blocking.failure == nil { blocking.failure = "\(name) \(outcome)" }
        }
        func link(id: String, seq: Int64?) {
            if let seq {
                guard linked.insert(seq).inserted else { return }
                jobIDs.append(id)
                if let dependency = table[seq], dependency.state.isTerminal {
                    ended("job \(id)", succeeded: dependency.state == .succeeded, outcome: Self.stateName(dependency.state))
                } else {
                    dependents[seq, default: []].append(record.seq)
                    blocking.pending += 1
                }
            } else if let state = lookups.jobs[id], linkedIDs.insert(id).inserted {
                jobIDs.append(id)
                ended("job \(id)", succeeded: state == .succeeded, outcome: Self.stateName(state))
            }
        }
        for index in request.dependsOnItems {
            guard index >= 0, index < items.count else { continue }
            let item = items[index]
            link(id: item.id.text, seq: item.seq)
        }
        for id in request.dependsOn { link(id: id, seq: table.seq(ofJob: id)) }
        var batchIDs: [String] = []
        var seenBatches = Set<String>()
        for id in request.dependsOnBatches + (extraBatch.map { [$0] } ?? []) where seenBatches.insert(id).inserted {
            batchIDs.append(id)
            blocking.waitsForBatches = true
            if batchIsOpen(id) {
                batchDependents[id, default: []].append(record.seq)
                blocking.pending += 1
            } else if let counts = batches[id] ?? lookups.batches[id] {
                ended("batch \(id)", succeeded: counts[.succeeded] == counts.total, outcome: Self.batchOutcome(counts))
            }
        }
        guard !jobIDs.isEmpty || !batchIDs.isEmpty else { return }
        record.dependencies = .init(jobs: jobIDs, batches: batchIDs, runIfFailed: request.runIfDependenciesFail)
        // A job whose batches all ended already is BLOCKED too, until their summary is read.
        if blocking.pending > 0 || blocking.failure != nil || blocking.waitsForBatches {
            record.state = .blocked
            blocked[record.seq] = blocking
        }
    }

    /// A batch with jobs that have not ended, or jobs on their way into it.
    func batchIsOpen(_ id: String) -> Bool {
        (batches[id].map { $0.unfinished > 0 } ?? false) || batchJoining[id, default: 0] > 0
    }

    /// A job of the call just stored: it can now be released or cancelled.
    func blockedJobStored(_ seq: Int64, atMs now: Int64) {
        guard var blocking = blocked[seq] else { return }
        blocking.stored = true
        blocked[seq] = blocking
        decide(seq, blocking, atMs: now)
    }

    /// A job of a call that was not stored: it waits for nothing.
    func blockedJobDropped(_ seq: Int64) {
        blocked[seq] = nil
        dependents[seq] = nil
    }

    // MARK: Ends

    /// Called by `changed` when a job ended: its dependents, and its
    /// batch's if the batch ended with it, hear it.
    func dependencyEnded(_ record: JobRecord) {
        if let waiting = dependents.removeValue(forKey: record.seq) {
            endedDependencies.append(.init(dependents: waiting, name: "job \(record.id)",
                                           succeeded: record.state == .succeeded, outcome: Self.stateName(record.state)))
        }
        if let batch = record.batchId { batchMayHaveEnded(batch) }
        tellDependents()
    }

    /// If every job of `batch` ended (and none is on its way in), its dependents hear it.
    func batchMayHaveEnded(_ batch: String) {
        guard !batchIsOpen(batch), let waiting = batchDependents.removeValue(forKey: batch) else { return }
        let counts = batches[batch] ?? StateCounts()
        endedDependencies.append(.init(dependents: waiting, name: "batch \(batch)", succeeded: counts[.succeeded] == counts.total,
                                       outcome: Self.batchOutcome(counts)))
        tellDependents()
    }

    /// Tells each ended dependency's dependents, in order; a dependent
    /// cancelled on the way adds its own dependents to the end.
    func tellDependents() {
        guard !tellingDependents, !endedDependencies.isEmpty else { return }
        tellingDependents = true
        let now = clock.nowMs
        var index = 0
        while index < endedDependencies.count {
            let ended = endedDependencies[index]
            index += 1
            for seq in ended.dependents {
                guard var blocking = blocked[seq] else { continue }
                blocking.pending -= 1
                if !ended.succeeded && !blocking.runIfFailed && blocking.failure == nil {
                    blocking.failure = "\(ended.name) \(ended.outcome)"
                }
                blocked[seq] = blocking
                decide(seq, blocking, atMs: now)
            }
        }
        endedDependencies.removeAll()
        tellingDependents = false
        pump()
    }

    /// Cancels a stored BLOCKED job whose dependency failed, or releases one
    /// with nothing left to wait for.
    private func decide(_ seq: Int64, _ blocking: Blocking, atMs now: Int64) {
        guard blocking.stored else { return }
        if let failure = blocking.failure {
            cancelBlocked(seq, because: failure, atMs: now)
        } else if blocking.pending <= 0 {
            if blocking.waitsForBatches {
                summarizeThenRelease(seq)
            } else {
                release(seq, summary: nil, atMs: now)
            }
        }
    }

    private func cancelBlocked(_ seq: Int64, because failure: String, atMs now: Int64) {
        blocked[seq] = nil
        guard var record = table[seq], record.state == .blocked, let cancelled = record.state.after(.cancelled) else { return }
        record.state = cancelled
        record.finishedAtMs = now
        record.updatedAtMs = now
        record.failure = .init(code: Self.dependencyFailedCode, message: "its dependency \(failure)", retryable: false)
        changed(record, from: .blocked, note: "cancelled: its dependency \(failure)", write: .beforeEvent, atMs: now)
    }

    /// The error code of a job cancelled because a dependency failed.
    public static let dependencyFailedCode = "dependency_failed"

    func release(_ seq: Int64, summary: String?, atMs now: Int64) {
        blocked[seq] = nil
        guard var record = table[seq], record.state == .blocked,
              let next = record.state.after(record.runAtMs > now ? .releasedBeforeRunAt : .released) else { return }
        record.state = next
        // It could run from now: its wait is counted from here.
        record.runAtMs = max(record.runAtMs, now)
        record.updatedAtMs = now
        if let summary { record.dependencySummary = summary }
        scheduler.add(record, nowMs: now)
        changed(record, from: .blocked, note: "dependencies met", write: .behind, atMs: now)
    }

    /// Reads how the batches a job waited for ended (once their ends are
    /// stored), then releases it with that summary.
    private func summarizeThenRelease(_ seq: Int64) {
        guard let batchIDs = table[seq]?.dependencies?.batches else { return }
        Task {
            await self.committed()
            let summary = await self.summary(of: batchIDs)
            self.release(seq, summary: summary, atMs: self.clock.nowMs)
            self.tellDependents()
            self.pump()
        }
    }

    /// JSON: each batch's counts and the ids of up to 100 of its jobs that
    /// failed and were cancelled (docs/api.md#dependencies).
    private nonisolated func summary(of batchIDs: [String]) async -> String {
        var entries: [[String: Any]] = []
        for id in batchIDs {
            var entry: [String: Any] = ["batch_id": id]
            if let counts = try? await store.stateCounts(ofBatch: id) {
                entry["total"] = counts.total
                entry["succeeded"] = counts[.succeeded]
                entry["failed"] = counts[.failed]
                entry["cancelled"] = counts[.cancelled]
            }
            for (state, key) in [(JobState.failed, "failed_job_ids"), (.cancelled, "cancelled_job_ids")] {
                var query = JobQuery()
                query.batchID = id
                query.states = [state]
                query.oldestFirst = true
                query.pageSize = Self.summaryJobIDs
                query.knownTotal = 0
                entry[key] = ((try? await store.jobs(matching: query))?.jobs ?? []).map(\.id)
            }
            entries.append(entry)
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["batches": entries], options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The most failed (and cancelled) job ids a summary names per batch.
    static let summaryJobIDs = 100

    static func stateName(_ state: JobState) -> String { String(describing: state).uppercased() }

    static func batchOutcome(_ counts: StateCounts) -> String {
        let bad = counts.total - counts[.succeeded]
        return bad == 0 ? "SUCCEEDED" : "ended with \(bad) of \(counts.total) jobs not succeeded"
    }

    // MARK: Restart

    /// Makes the edges of the BLOCKED jobs loaded at start-up, reading the
    /// dependencies no longer in memory from the store; then releases or
    /// cancels those whose dependencies all ended meanwhile.
    func linkLoadedBlockedJobs(_ seqs: [Int64]) async throws(EngineError) {
        var lookups = Lookups()
        var jobIDs = Set<String>(), batchIDs = Set<String>()
        for seq in seqs {
            guard let dependencies = table[seq]?.dependencies else { continue }
            for id in dependencies.jobs where table.seq(ofJob: id) == nil { jobIDs.insert(id) }
            for id in dependencies.batches where batches[id] == nil { batchIDs.insert(id) }
        }
        for id in jobIDs.sorted() {
            do {
                // A dependency pruned away by retention counts as succeeded: it can no longer say otherwise.
                lookups.jobs[id] = try await store.job(id: id)?.state ?? .succeeded
            } catch {
                throw .storage("cannot read job \(id): \(error)")
            }
        }
        for id in batchIDs.sorted() {
            do { lookups.batches[id] = try await store.stateCounts(ofBatch: id) } catch { throw .storage("cannot read batch \(id): \(error)") }
        }
        for seq in seqs {
            guard var record = table[seq], let dependencies = record.dependencies else { continue }
            var request = JobRequest(type: record.type)
            request.dependsOn = dependencies.jobs
            request.dependsOnBatches = dependencies.batches
            request.runIfDependenciesFail = dependencies.runIfFailed
            linkDependencies(of: &record, request, items: [], lookups: lookups)
            if blocked[seq] == nil {
                // Every dependency ended while the server was down.
                blocked[seq] = Blocking(pending: 0, runIfFailed: dependencies.runIfFailed, waitsForBatches: false)
            }
        }
    }

    /// After start-up: the loaded BLOCKED jobs are stored; decide those
    /// that need not wait.
    func decideLoadedBlockedJobs(_ seqs: [Int64]) {
        let now = clock.nowMs
        for seq in seqs { blockedJobStored(seq, atMs: now) }
    }

    // MARK: Showing

    /// Why a BLOCKED job waits: its dependencies that have not ended.
    func dependencyWaitReason(_ record: JobRecord) -> WaitReason {
        guard let dependencies = record.dependencies else { return WaitReason(.dependencies) }
        let jobs = dependencies.jobs.filter { id in table.record(id: id).map { !$0.state.isTerminal } ?? false }
        let openBatches = dependencies.batches.filter(batchIsOpen)
        return WaitReason(.dependencies, key: openBatches.first ?? "", holders: Array(jobs.prefix(100)),
                          ahead: jobs.count + openBatches.count)
    }
}

extension QueueEngine {
    /// A job the store found to be a duplicate (its idempotency key taken
    /// meanwhile): the jobs of its call that waited for it wait for the
    /// job holding the key instead.
    func blockedJobDropped(_ seq: Int64, redirectingDependentsTo holder: String) {
        blocked[seq] = nil
        guard let waiting = dependents.removeValue(forKey: seq) else { return }
        if let holderSeq = table.seq(ofJob: holder), let record = table[holderSeq] {
            if record.state.isTerminal {
                endedDependencies.append(.init(dependents: waiting, name: "job \(holder)", succeeded: record.state == .succeeded,
                                               outcome: Self.stateName(record.state)))
            } else {
                dependents[holderSeq, default: []] += waiting
            }
            return
        }
        Task {
            let state = (try? await self.store.job(id: holder))?.state ?? .succeeded
            self.heard(EndedDependency(dependents: waiting, name: "job \(holder)", succeeded: state == .succeeded,
                                             outcome: Self.stateName(state)))
        }
    }

    private func heard(_ ended: EndedDependency) {
        endedDependencies.append(ended)
        tellDependents()
    }
}
