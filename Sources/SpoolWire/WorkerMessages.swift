import SpoolProtoC

// The messages of spool.v1.Workers (proto/spool/v1/worker.proto).

/// spool.v1.Lease: names one leased attempt.
public struct WireLease: Equatable, Hashable, Sendable, ProtobufCBridged {
    public var jobId = ""
    public var attempt: Int32 = 0
    public var leaseId = ""

    public init(jobId: String = "", attempt: Int32 = 0, leaseId: String = "") {
        self.jobId = jobId
        self.attempt = attempt
        self.leaseId = leaseId
    }

    typealias CMessage = Spool__V1__Lease
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__lease__init }

    init(c: UnsafePointer<CMessage>) {
        jobId = CRead.string(c.pointee.job_id)
        attempt = c.pointee.attempt
        leaseId = CRead.string(c.pointee.lease_id)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.job_id = arena.string(jobId)
        c.pointee.attempt = attempt
        c.pointee.lease_id = arena.string(leaseId)
    }
}

/// spool.v1.WorkerMessage: what a worker sends.
public struct WorkerMessage: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public struct Hello: Equatable, Sendable {
        public var name = ""
        public var types: [String] = []
        public var capacity: Int32 = 0
        public var labels: [String: String] = [:]
        /// Reads `assignments` and may send `outcomes` (after a welcome saying so).
        public var batches = false

        public init(name: String = "", types: [String] = [], capacity: Int32 = 0, labels: [String: String] = [:],
                    batches: Bool = false) {
            self.name = name
            self.types = types
            self.capacity = capacity
            self.labels = labels
            self.batches = batches
        }
    }

    public enum Outcome: Equatable, Sendable {
        /// No outcome was set: a malformed message.
        case none
        case result([UInt8])
        case failure(message: String, permanent: Bool, retryAfterMs: Int64)
        case released(String)
    }

    /// spool.v1.JobOutcome: how one run ended.
    public struct LeasedOutcome: Equatable, Sendable, ProtobufCBridged {
        public var lease: WireLease?
        public var outcome: Outcome

        public init(_ lease: WireLease?, _ outcome: Outcome) {
            self.lease = lease
            self.outcome = outcome
        }

        typealias CMessage = Spool__V1__JobOutcome
        static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__job_outcome__init }

        init(c: UnsafePointer<CMessage>) {
            let o = c.pointee
            lease = CRead.message(o.lease, as: WireLease.self)
            switch o.outcome_case {
            case SPOOL__V1__JOB_OUTCOME__OUTCOME_RESULT:
                outcome = .result(CRead.bytes(o.result))
            case SPOOL__V1__JOB_OUTCOME__OUTCOME_FAILURE:
                let failure = o.failure?.pointee
                outcome = .failure(message: CRead.string(failure?.message), permanent: (failure?.permanent ?? 0) != 0,
                                   retryAfterMs: failure?.retry_after_ms ?? 0)
            case SPOOL__V1__JOB_OUTCOME__OUTCOME_RELEASED:
                outcome = .released(CRead.string(o.released))
            default:
                outcome = .none
            }
        }

        func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
            c.pointee.lease = lease.map(arena.message)
            switch outcome {
            case .none:
                break
            case .result(let bytes):
                c.pointee.outcome_case = SPOOL__V1__JOB_OUTCOME__OUTCOME_RESULT
                c.pointee.result = arena.bytes(bytes)
            case .failure(let message, let permanent, let retryAfterMs):
                c.pointee.outcome_case = SPOOL__V1__JOB_OUTCOME__OUTCOME_FAILURE
                let f = arena.cStruct(spool__v1__job_failure__init)
                f.pointee.message = arena.string(message)
                f.pointee.permanent = permanent ? 1 : 0
                f.pointee.retry_after_ms = retryAfterMs
                c.pointee.failure = f
            case .released(let reason):
                c.pointee.outcome_case = SPOOL__V1__JOB_OUTCOME__OUTCOME_RELEASED
                c.pointee.released = arena.string(reason)
            }
        }
    }

    public enum Body: Equatable, Sendable {
        /// No field of the oneof was set (or one this version does not know).
        case none
        case hello(Hello)
        case heartbeat
        case progress(WireLease?, JobProgress?)
        case outcome(LeasedOutcome)
        case draining
        case outcomes([LeasedOutcome])
    }

    public var body: Body

    public init(_ body: Body) { self.body = body }

    typealias CMessage = Spool__V1__WorkerMessage
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__worker_message__init }

    init(c: UnsafePointer<CMessage>) {
        let m = c.pointee
        switch m.message_case {
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_HELLO:
            guard let hello = m.hello?.pointee else { body = .none; return }
            body = .hello(Hello(
                name: CRead.string(hello.name), types: CRead.strings(hello.n_types, hello.types), capacity: hello.capacity,
                labels: CRead.map(hello.n_labels, hello.labels, key: \.key, value: \.value), batches: hello.batches != 0))
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_HEARTBEAT:
            body = .heartbeat
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_PROGRESS:
            let update = m.progress?.pointee
            body = .progress(CRead.message(update?.lease, as: WireLease.self), CRead.message(update?.progress, as: JobProgress.self))
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_OUTCOME:
            guard let outcome = m.outcome else { body = .none; return }
            body = .outcome(LeasedOutcome(c: outcome))
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_OUTCOMES:
            let outcomes = m.outcomes?.pointee
            body = .outcomes(CRead.messages(outcomes?.n_outcomes ?? 0, outcomes?.outcomes, as: LeasedOutcome.self))
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_DRAINING:
            body = .draining
        default:
            body = .none
        }
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        switch body {
        case .none:
            break
        case .hello(let hello):
            c.pointee.message_case = SPOOL__V1__WORKER_MESSAGE__MESSAGE_HELLO
            let h = arena.cStruct(spool__v1__worker_hello__init)
            h.pointee.name = arena.string(hello.name)
            h.pointee.n_types = hello.types.count
            h.pointee.types = arena.strings(hello.types)
            h.pointee.capacity = hello.capacity
            h.pointee.batches = hello.batches ? 1 : 0
            (h.pointee.n_labels, h.pointee.labels) = arena.map(
                hello.labels, initialize: spool__v1__worker_hello__labels_entry__init, key: \.key, value: \.value)
            c.pointee.hello = h
        case .heartbeat:
            c.pointee.message_case = SPOOL__V1__WORKER_MESSAGE__MESSAGE_HEARTBEAT
            c.pointee.heartbeat = arena.cStruct(spool__v1__worker_heartbeat__init)
        case .progress(let lease, let progress):
            c.pointee.message_case = SPOOL__V1__WORKER_MESSAGE__MESSAGE_PROGRESS
            let p = arena.cStruct(spool__v1__job_progress_update__init)
            p.pointee.lease = lease.map(arena.message)
            p.pointee.progress = progress.map(arena.message)
            c.pointee.progress = p
        case .outcome(let outcome):
            c.pointee.message_case = SPOOL__V1__WORKER_MESSAGE__MESSAGE_OUTCOME
            c.pointee.outcome = arena.message(outcome)
        case .draining:
            c.pointee.message_case = SPOOL__V1__WORKER_MESSAGE__MESSAGE_DRAINING
            c.pointee.draining = arena.cStruct(spool__v1__worker_draining__init)
        case .outcomes(let outcomes):
            c.pointee.message_case = SPOOL__V1__WORKER_MESSAGE__MESSAGE_OUTCOMES
            let o = arena.cStruct(spool__v1__job_outcomes__init)
            o.pointee.n_outcomes = outcomes.count
            o.pointee.outcomes = arena.messages(outcomes)
            c.pointee.outcomes = o
        }
    }
}

/// spool.v1.WorkerCommand: what the server sends a worker.
public struct WorkerCommandMessage: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public struct Assignment: Equatable, Sendable, ProtobufCBridged {
        public var lease = WireLease()
        public var type = ""
        public var queue = ""
        public var payload: [UInt8] = []
        public var maxAttempts: Int32 = 0
        public var priority: Int32 = 0
        public var deadlineMs: Int64 = 0
        public var leaseMs: Int64 = 0
        public var labels: [String: String] = [:]
        public var batchId = ""
        public var dependencySummary = ""

        public init() {}

        typealias CMessage = Spool__V1__JobAssignment
        static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__job_assignment__init }

        init(c: UnsafePointer<CMessage>) {
            let a = c.pointee
            lease = CRead.message(a.lease, as: WireLease.self) ?? WireLease()
            type = CRead.string(a.type)
            queue = CRead.string(a.queue)
            payload = CRead.bytes(a.payload)
            maxAttempts = a.max_attempts
            priority = a.priority
            deadlineMs = a.deadline_ms
            leaseMs = a.lease_ms
            labels = CRead.map(a.n_labels, a.labels, key: \.key, value: \.value)
            batchId = CRead.string(a.batch_id)
            dependencySummary = CRead.string(a.dependency_summary)
        }

        func fill(_ a: UnsafeMutablePointer<CMessage>, arena: CArena) {
            a.pointee.lease = arena.message(lease)
            a.pointee.type = arena.string(type)
            a.pointee.queue = arena.string(queue)
            a.pointee.payload = arena.bytes(payload)
            a.pointee.max_attempts = maxAttempts
            a.pointee.priority = priority
            a.pointee.deadline_ms = deadlineMs
            a.pointee.lease_ms = leaseMs
            (a.pointee.n_labels, a.pointee.labels) = arena.map(
                labels, initialize: spool__v1__job_assignment__labels_entry__init, key: \.key, value: \.value)
            a.pointee.batch_id = arena.string(batchId)
            a.pointee.dependency_summary = arena.string(dependencySummary)
        }
    }

    /// spool.v1.JobCancel.Cause
    public enum CancelCause: UInt32, Sendable {
        case unspecified = 0
        case request = 1
        case timeout = 2
        case shutdown = 3
        case leaseLost = 4
    }

    /// spool.v1.OutcomeAck.Refusal
    public enum Refusal: UInt32, Sendable {
        case none = 0
        case leaseLost = 1
        case unknownLease = 2
    }

    public enum Body: Equatable, Sendable {
        case none
        case welcome(workerId: String, heartbeatIntervalMs: Int64, batches: Bool)
        case assign(Assignment)
        case assignments([Assignment])
        case cancel(WireLease, CancelCause, message: String)
        case drain(deadlineMs: Int64, message: String)
        case ack(WireLease, Refusal, message: String)
    }

    public var body: Body

    public init(_ body: Body) { self.body = body }

    typealias CMessage = Spool__V1__WorkerCommand
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__worker_command__init }

    init(c: UnsafePointer<CMessage>) {
        let m = c.pointee
        switch m.command_case {
        case SPOOL__V1__WORKER_COMMAND__COMMAND_WELCOME:
            body = .welcome(workerId: CRead.string(m.welcome?.pointee.worker_id),
                            heartbeatIntervalMs: m.welcome?.pointee.heartbeat_interval_ms ?? 0,
                            batches: (m.welcome?.pointee.batches ?? 0) != 0)
        case SPOOL__V1__WORKER_COMMAND__COMMAND_ASSIGN:
            guard let a = m.assign else { body = .none; return }
            body = .assign(Assignment(c: a))
        case SPOOL__V1__WORKER_COMMAND__COMMAND_ASSIGNMENTS:
            let a = m.assignments?.pointee
            body = .assignments(CRead.messages(a?.n_assignments ?? 0, a?.assignments, as: Assignment.self))
        case SPOOL__V1__WORKER_COMMAND__COMMAND_CANCEL:
            let cancel = m.cancel?.pointee
            body = .cancel(CRead.message(cancel?.lease, as: WireLease.self) ?? WireLease(),
                           CancelCause(rawValue: cancel?.cause.rawValue ?? 0) ?? .unspecified,
                           message: CRead.string(cancel?.message))
        case SPOOL__V1__WORKER_COMMAND__COMMAND_DRAIN:
            body = .drain(deadlineMs: m.drain?.pointee.deadline_ms ?? 0, message: CRead.string(m.drain?.pointee.message))
        case SPOOL__V1__WORKER_COMMAND__COMMAND_ACK:
            let ack = m.ack?.pointee
            body = .ack(CRead.message(ack?.lease, as: WireLease.self) ?? WireLease(),
                        Refusal(rawValue: ack?.refusal.rawValue ?? 0) ?? .none, message: CRead.string(ack?.message))
        default:
            body = .none
        }
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        switch body {
        case .none:
            break
        case .welcome(let workerId, let interval, let batches):
            c.pointee.command_case = SPOOL__V1__WORKER_COMMAND__COMMAND_WELCOME
            let w = arena.cStruct(spool__v1__worker_welcome__init)
            w.pointee.worker_id = arena.string(workerId)
            w.pointee.heartbeat_interval_ms = interval
            w.pointee.batches = batches ? 1 : 0
            c.pointee.welcome = w
        case .assign(let assignment):
            c.pointee.command_case = SPOOL__V1__WORKER_COMMAND__COMMAND_ASSIGN
            c.pointee.assign = arena.message(assignment)
        case .assignments(let assignments):
            c.pointee.command_case = SPOOL__V1__WORKER_COMMAND__COMMAND_ASSIGNMENTS
            let a = arena.cStruct(spool__v1__job_assignments__init)
            a.pointee.n_assignments = assignments.count
            a.pointee.assignments = arena.messages(assignments)
            c.pointee.assignments = a
        case .cancel(let lease, let cause, let message):
            c.pointee.command_case = SPOOL__V1__WORKER_COMMAND__COMMAND_CANCEL
            let x = arena.cStruct(spool__v1__job_cancel__init)
            x.pointee.lease = arena.message(lease)
            x.pointee.cause = Spool__V1__JobCancel__Cause(rawValue: cause.rawValue)
            x.pointee.message = arena.string(message)
            c.pointee.cancel = x
        case .drain(let deadlineMs, let message):
            c.pointee.command_case = SPOOL__V1__WORKER_COMMAND__COMMAND_DRAIN
            let d = arena.cStruct(spool__v1__worker_drain__init)
            d.pointee.deadline_ms = deadlineMs
            d.pointee.message = arena.string(message)
            c.pointee.drain = d
        case .ack(let lease, let refusal, let message):
            c.pointee.command_case = SPOOL__V1__WORKER_COMMAND__COMMAND_ACK
            let k = arena.cStruct(spool__v1__outcome_ack__init)
            k.pointee.lease = arena.message(lease)
            k.pointee.refusal = Spool__V1__OutcomeAck__Refusal(rawValue: refusal.rawValue)
            k.pointee.message = arena.string(message)
            c.pointee.ack = k
        }
    }
}

/// spool.v1.RemoteWorkerStatus
public struct RemoteWorkerInfo: Equatable, Sendable, ProtobufCBridged {
    public var workerId = ""
    public var name = ""
    public var peer = ""
    public var types: [String] = []
    public var capacity: Int32 = 0
    public var jobIds: [String] = []
    public var labels: [String: String] = [:]
    public var connectedAtMs: Int64 = 0
    public var lastHeartbeatMs: Int64 = 0
    public var draining = false

    public init() {}

    typealias CMessage = Spool__V1__RemoteWorkerStatus
    static var initializeC: (UnsafeMutablePointer<CMessage>?) -> Void { spool__v1__remote_worker_status__init }

    init(c: UnsafePointer<CMessage>) {
        let m = c.pointee
        workerId = CRead.string(m.worker_id)
        name = CRead.string(m.name)
        peer = CRead.string(m.peer)
        types = CRead.strings(m.n_types, m.types)
        capacity = m.capacity
        jobIds = CRead.strings(m.n_job_ids, m.job_ids)
        labels = CRead.map(m.n_labels, m.labels, key: \.key, value: \.value)
        connectedAtMs = m.connected_at_ms
        lastHeartbeatMs = m.last_heartbeat_ms
        draining = m.draining != 0
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.worker_id = arena.string(workerId)
        c.pointee.name = arena.string(name)
        c.pointee.peer = arena.string(peer)
        c.pointee.n_types = types.count
        c.pointee.types = arena.strings(types)
        c.pointee.capacity = capacity
        c.pointee.n_job_ids = jobIds.count
        c.pointee.job_ids = arena.strings(jobIds)
        (c.pointee.n_labels, c.pointee.labels) = arena.map(
            labels, initialize: spool__v1__remote_worker_status__labels_entry__init, key: \.key, value: \.value)
        c.pointee.connected_at_ms = connectedAtMs
        c.pointee.last_heartbeat_ms = lastHeartbeatMs
        c.pointee.draining = draining ? 1 : 0
    }
}

// MARK: JSON (see JobMessages.swift)

extension RemoteWorkerInfo: Encodable {}
