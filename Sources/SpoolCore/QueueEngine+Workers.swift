// Remote workers (docs/workers.md): the engine hands jobs of remote
// types to connected workers under the same rules as its own slots, leases
// each attempt, and takes a worker's word about a job only under the lease
// it was given.

/// An attempt a worker holds, by what its messages name.
struct HeldLease {
    let seq: Int64
    let jobID: String
    let attempt: Int32
}

/// A connected worker, or a disconnected one whose leases have not all ended.
struct RemoteWorkerState {
    let number: Int64
    let id: String
    let hello: WorkerHello
    let types: Set<String>
    let send: @Sendable (WorkerCommand) -> Void
    let connectedAtMs: Int64
    var lastHeartbeatMs: Int64
    /// Leases this worker holds, by lease id: its running attempts, and
    /// attempts the engine has ended while the worker may still run them
    /// (cancelled without an answer). Each takes one of its slots until the
    /// worker answers for it or goes.
    var held: [String: HeldLease] = [:]
    /// Leases to keep in `held` when their attempt ends without the worker's answer.
    var unanswered: Set<String> = []
    var connected = true
    var draining = false

    var free: Int { max(0, hello.capacity - held.count) }
    var takesWork: Bool { connected && !draining }
}

extension QueueEngine.CancelCause: CustomStringConvertible {
    var workerCause: WorkerCancelCause {
        switch self {
        case .request: .request
        case .timeout: .timeout
        case .shutdown: .shutdown
        }
    }

    var description: String {
        switch self {
        case .request(let reason): reason.isEmpty ? "cancelled" : "cancelled: \(reason)"
        case .timeout: "the attempt ran past its timeout"
        case .shutdown: "the server is shutting down"
        }
    }
}

extension QueueEngine {
    // MARK: The worker's side

    /// A worker connected: it may be handed jobs of its types, up to its
    /// capacity, at once. `send` takes the engine's commands for it in
    /// order, the first being `.welcome`; it must not block. Answers the
    /// worker's number, which its later calls give.
    public func connectWorker(
        _ hello: WorkerHello, send: @escaping @Sendable (WorkerCommand) -> Void
    ) throws(EngineError) -> Int64 {
        guard phase == .running else { throw .unavailable("the server is shutting down") }
        if let problem = hello.problem(remoteTypes: configuration.remoteTypes) { throw .invalidArgument(problem) }
        lastWorkerNumber += 1
        let number = lastWorkerNumber
        let now = clock.nowMs
        let shortestLease = hello.types.compactMap { configuration.remoteTypes[$0]?.leaseMs }.min() ?? 60_000
        let worker = RemoteWorkerState(
            number: number, id: "w\(number)", hello: hello, types: Set(hello.types), send: send,
            connectedAtMs: now, lastHeartbeatMs: now)
        remoteWorkers[number] = worker
        send(.welcome(WorkerSession(workerID: worker.id, heartbeatIntervalMs: max(250, shortestLease / 3))))
        for type in worker.types { scheduler.placesFreed(inLane: type, count: hello.capacity) }
        pump()
        return number
    }

    /// The worker is alive: every lease it holds is renewed.
    /// What a worker's stream said, in order, handed over together: a busy
    /// worker's answers cost one turn of the engine and one dispatch pass,
    /// not one each.
    public func workerReports(_ number: Int64, _ reports: [WorkerReport]) {
        deferringPump {
            for report in reports {
                switch report {
                case .heartbeat: workerHeartbeat(number)
                case .progress(let lease, let progress): workerProgress(number, lease, progress)
                case .finished(let lease, let outcome): workerFinished(number, lease, outcome)
                case .draining: workerDraining(number)
                case .disconnected: disconnectWorker(number)
                }
            }
        }
    }

    public func workerHeartbeat(_ number: Int64) {
        guard var worker = remoteWorkers[number], worker.connected else { return }
        let now = clock.nowMs
        worker.lastHeartbeatMs = now
        remoteWorkers[number] = worker
        for held in worker.held.values { renewLease(of: held.seq, atMs: now) }
    }

    /// Progress of a leased job; it renews that lease too. Progress under a
    /// lease that is no longer the worker's changes nothing (the worker was
    /// sent a cancel when it lost it).
    public func workerProgress(_ number: Int64, _ lease: LeaseRef, _ progress: JobRecord.Progress) {
        guard let seq = liveLease(lease, of: number) else { return }
        let now = clock.nowMs
        renewLease(of: seq, atMs: now)
        reported(progress, seq: seq, attempt: lease.attempt)
    }

    /// How the worker's run of a leased job ended. The worker is answered
    /// (`.answer`) whether it was taken or refused: refused when the lease
    /// is not the job's current one (it ran out, the job was cancelled and
    /// ended, or it names another attempt); then nothing changes.
    public func workerFinished(_ number: Int64, _ lease: LeaseRef, _ outcome: WorkerOutcome) {
        guard var worker = remoteWorkers[number] else { return }
        guard let held = worker.held[lease.leaseID], held.jobID == lease.jobID, held.attempt == lease.attempt else {
            worker.send(.refused(lease, .unknownLease, message: "no job \"\(lease.jobID)\" attempt \(lease.attempt) "
                                + "is leased to this worker under lease \"\(lease.leaseID)\""))
            return
        }
        guard let seq = liveLease(lease, of: number) else {
            // Ended by the server meanwhile; its slot comes free now that the worker has let it go.
            worker.held[lease.leaseID] = nil
            worker.unanswered.remove(lease.leaseID)
            remoteWorkers[number] = worker
            let state = table[held.seq].map { "the job is \($0.state)" } ?? "the job has ended"
            worker.send(.refused(lease, .leaseLost, message: "this attempt's lease is no longer yours (\(state)): "
                                + "it ran out or the job was cancelled; the answer changed nothing"))
            placesFreed(on: number, count: 1)
            pump()
            return
        }
        let run: RunOutcome = switch outcome {
        case .succeeded(let result): .succeeded(result)
        case .failed(let message, true, _): .threw(JobFailure.permanent(message))
        case .failed(let message, false, let retryAfterMs): .threw(JobFailure.retryable(message, retryAfterMs: retryAfterMs))
        case .released(let reason): .released(reason)
        }
        finished(seq, attempt: lease.attempt, outcome: run)
    }

    /// The worker takes no new jobs (it is stopping); it keeps its leases
    /// and may still answer for them. There is no way back.
    public func workerDraining(_ number: Int64) {
        remoteWorkers[number]?.draining = true
    }

    /// The worker's stream ended. Jobs it was assigned but never sent go
    /// back to their queue at once, their attempt not counted; jobs it has
    /// stay leased to it until their lease runs out, then are retried as lost.
    public func disconnectWorker(_ number: Int64) {
        guard var worker = remoteWorkers[number], worker.connected else { return }
        worker.connected = false
        for leaseID in worker.unanswered { worker.held[leaseID] = nil }
        worker.unanswered = []
        remoteWorkers[number] = worker
        for (leaseID, held) in worker.held {
            let seq = held.seq
            guard let run = running[seq], case .remote(number, let lease) = run.runner, lease.id == leaseID else {
                remoteWorkers[number]?.held[leaseID] = nil
                continue
            }
            if !lease.delivered, let record = table[seq] {
                finished(seq, attempt: record.attempt, outcome: .released("its worker disconnected before it was handed over"))
            }
        }
        forgetWorkerIfDone(number)
    }

    // MARK: Status

    func remoteWorkerStatuses() -> [RemoteWorkerStatus] {
        remoteWorkers.values.filter(\.connected).sorted { $0.number < $1.number }.map { worker in
            RemoteWorkerStatus(
                workerID: worker.id, name: worker.hello.name, peer: worker.hello.peer, types: worker.hello.types,
                capacity: worker.hello.capacity,
                jobIDs: worker.held.values.filter { running[$0.seq] != nil }.map(\.jobID).sorted(),
                labels: worker.hello.labels, connectedAtMs: worker.connectedAtMs,
                lastHeartbeatMs: worker.lastHeartbeatMs, draining: worker.draining)
        }
    }

    // MARK: The engine's side

    /// The places a dispatch round may fill now.
    func dispatchSlots() -> DispatchSlots {
        var workers: [DispatchSlots.Worker] = []
        if !remoteWorkers.isEmpty {
            for worker in remoteWorkers.values where worker.takesWork && worker.free > 0 {
                workers.append(.init(number: worker.number, free: worker.free, types: worker.types))
            }
            workers.sort { $0.number < $1.number }
        }
        return DispatchSlots(localFree: freeWorkers.count, remoteTypes: configuration.remoteTypes, workers: workers)
    }

    /// A run ended: its place is free for another job.
    func freePlace(of run: RunningJob, seq: Int64) {
        switch run.runner {
        case .local(_, let slot):
            workers[slot] = nil
            freeWorkers.append(slot)
            scheduler.placesFreed(inLane: "", count: 1)
        case .remote(let number, let lease):
            guard var worker = remoteWorkers[number] else { return }
            if worker.unanswered.contains(lease.id) { return }  // the worker has not let it go yet
            worker.held[lease.id] = nil
            remoteWorkers[number] = worker
            placesFreed(on: number, count: 1)
            forgetWorkerIfDone(number)
        }
    }

    private func placesFreed(on number: Int64, count: Int) {
        guard let worker = remoteWorkers[number], worker.takesWork else { return }
        for type in worker.types { scheduler.placesFreed(inLane: type, count: count) }
    }

    private func forgetWorkerIfDone(_ number: Int64) {
        if let worker = remoteWorkers[number], !worker.connected, worker.held.isEmpty { remoteWorkers[number] = nil }
    }

    /// Starts an attempt on a remote worker: RUNNING now, the assignment
    /// sent once its payload is read. The RUNNING is written behind, like a
    /// local start's: should spoold stop before that commit, the job is still
    /// QUEUED in the store and runs again after the restart (the worker's
    /// answer then finds no lease), its attempt not counted.
    func startRemote(_ record: inout JobRecord, on number: Int64, deadlineMs: Int64?, atMs now: Int64) {
        let duration = configuration.remoteTypes[record.type]?.leaseMs ?? 60_000
        let lease = RemoteLease(id: String(random.next(), radix: 36), durationMs: duration,
                                expiresAtMs: now.saturatingAdd(duration))
        remoteWorkers[number]?.held[lease.id] = HeldLease(seq: record.seq, jobID: record.id, attempt: record.attempt)
        let name = remoteWorkers[number].map { "\($0.id) (\($0.hello.name))" } ?? "a remote worker"
        changed(record, from: .queued, note: "attempt \(record.attempt) of \(record.maxAttempts) on worker \(name)",
                write: .behind, atMs: now)
        running[record.seq] = RunningJob(runner: .remote(worker: number, lease: lease), batchID: record.batchId,
                                         deadlineMs: deadlineMs)
        if let deadlineMs { watchDeadline(deadlineMs, of: record.seq) }
        leaseTimers.insert(.init(dueMs: lease.expiresAtMs, seq: record.seq))
        let store = self.store, seq = record.seq, attempt = record.attempt, leaseID = lease.id
        Task.detached { [weak self] in
            let payload: Result<[UInt8]?, any Error>
            do { payload = .success(try await store.payload(ofJobSeq: seq)) } catch { payload = .failure(error) }
            await self?.assignmentLoaded(seq, attempt: attempt, leaseID: leaseID, payload: payload)
        }
    }

    private func assignmentLoaded(_ seq: Int64, attempt: Int32, leaseID: String, payload: Result<[UInt8]?, any Error>) {
        guard let run = running[seq], case .remote(let number, var lease) = run.runner, lease.id == leaseID,
              let record = table[seq], record.attempt == attempt else { return }
        let bytes: [UInt8]
        switch payload {
        case .success(let stored?): bytes = stored
        case .success(nil):
            return finished(seq, attempt: attempt, outcome: .threw(JobFailure.permanent("the job's payload is missing from storage")))
        case .failure(let error):
            return finished(seq, attempt: attempt, outcome: .released("cannot read the payload: \(error)"))
        }
        guard run.cancelCause == nil, let worker = remoteWorkers[number], worker.connected else {
            return finished(seq, attempt: attempt, outcome: .released("not handed over: \(run.cancelCause?.description ?? "its worker went")"))
        }
        lease.delivered = true
        running[seq]?.runner = .remote(worker: number, lease: lease)
        worker.send(.assign(JobAssignment(
            lease: LeaseRef(jobID: record.id, attempt: attempt, leaseID: leaseID), type: record.type, queue: record.queue,
            payload: bytes, maxAttempts: record.maxAttempts, priority: record.priority, deadlineMs: run.deadlineMs ?? 0,
            leaseMs: lease.durationMs, labels: record.labels, batchID: record.batchId ?? "",
            dependencySummary: record.dependencySummary ?? "")))
    }

    /// The seq of the running attempt `lease` names, if it is leased to
    /// worker `number` now.
    private func liveLease(_ lease: LeaseRef, of number: Int64) -> Int64? {
        guard let seq = remoteWorkers[number]?.held[lease.leaseID]?.seq, let run = running[seq],
              case .remote(number, let current) = run.runner, current.id == lease.leaseID,
              let record = table[seq], record.id == lease.jobID, record.attempt == lease.attempt else { return nil }
        return seq
    }

    private func renewLease(of seq: Int64, atMs now: Int64) {
        guard let run = running[seq], case .remote(let number, var lease) = run.runner else { return }
        var end = now.saturatingAdd(lease.durationMs)
        if let cancelDeadline = lease.cancelDeadlineMs { end = min(end, cancelDeadline) }
        guard end > lease.expiresAtMs else { return }
        lease.expiresAtMs = end
        running[seq]?.runner = .remote(worker: number, lease: lease)
        // Renewals leave stale entries behind; rebuild before they outnumber the leases.
        if leaseTimers.count > 4 * running.count + 64 {
            leaseTimers = TimerHeap()
            for (seq, run) in running {
                if case .remote(_, let lease) = run.runner { leaseTimers.insert(.init(dueMs: lease.expiresAtMs, seq: seq)) }
            }
        } else {
            leaseTimers.insert(.init(dueMs: end, seq: seq))
        }
    }

    /// A cancel was sent for a remote attempt: the worker has until the end
    /// of one lease to answer, then the attempt ends without it (and the
    /// worker's slot stays taken until it answers or goes).
    func cancelSent(_ seq: Int64) {
        guard let run = running[seq], case .remote(let number, var lease) = run.runner else { return }
        let deadline = clock.nowMs.saturatingAdd(lease.durationMs)
        lease.cancelDeadlineMs = deadline
        lease.expiresAtMs = min(lease.expiresAtMs, deadline)
        running[seq]?.runner = .remote(worker: number, lease: lease)
        leaseTimers.insert(.init(dueMs: lease.expiresAtMs, seq: seq))
        pump()
    }

    /// Ends remote attempts whose lease ran out: a cancelled one as its
    /// cancel decides, any other as lost (retried, its attempt counted). A
    /// worker still connected whose heartbeats stopped is disconnected.
    func endLeasesPastTheirTime(atMs now: Int64) {
        while let due = leaseTimers.popDue(atMs: now) {
            guard let run = running[due.seq], case .remote(let number, let lease) = run.runner,
                  lease.expiresAtMs == due.dueMs, let record = table[due.seq] else { continue }
            let worker = remoteWorkers[number]
            let message: String
            if run.cancelCause != nil {
                message = "worker \(worker?.id ?? "?") did not answer the cancel within \(lease.durationMs) ms"
                if worker?.connected == true { remoteWorkers[number]?.unanswered.insert(lease.id) }
            } else if let worker, worker.connected {
                message = "worker \(worker.id) (\(worker.hello.name)) sent no heartbeat for \(lease.durationMs) ms: its lease ran out"
                // Not alive by the protocol: no more work for it, and its stream ends.
                worker.send(.close(.unavailable("no heartbeat for \(lease.durationMs) ms: this worker's leases ran out")))
                disconnectWorker(number)
            } else {
                message = "worker \(worker?.id ?? "?") disconnected and its lease of \(lease.durationMs) ms ran out"
            }
            finished(due.seq, attempt: record.attempt, outcome: .lost(message))
        }
    }

    /// Shutdown's grace is over: the attempt is let go as it is; it stays
    /// RUNNING in the store, and the next start queues it again.
    func letGo(_ seq: Int64) {
        guard let run = running.removeValue(forKey: seq), case .remote(let number, let lease) = run.runner else { return }
        remoteWorkers[number]?.held[lease.id] = nil
        runEnded()
    }

    /// Shutdown begins: no worker gets new jobs; each is told when the grace ends.
    func drainWorkers(deadlineMs: Int64) {
        for number in Array(remoteWorkers.keys) where remoteWorkers[number]!.connected {
            remoteWorkers[number]!.draining = true
            remoteWorkers[number]!.send(.drain(deadlineMs: deadlineMs, message: "the server is shutting down"))
        }
    }

    /// Shutdown ends: every worker's stream ends UNAVAILABLE.
    func closeWorkers() {
        for worker in remoteWorkers.values where worker.connected {
            worker.send(.close(.unavailable("the server is shutting down")))
        }
        remoteWorkers = [:]
    }
}
