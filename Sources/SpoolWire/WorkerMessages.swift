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

        public init(name: String = "", types: [String] = [], capacity: Int32 = 0, labels: [String: String] = [:]) {
            self.name = name
            self.types = types
            self.capacity = capacity
            self.labels = labels
        }
    }

    public enum Outcome: Equatable, Sendable {
        /// No outcome was set: a malformed message.
        case none
        case result([UInt8])
        case failure(message: String, permanent: Bool, retryAfterMs: Int64)
        case released(String)
    }

    public enum Body: Equatable, Sendable {
        /// No field of the oneof was set (or one this version does not know).
        case none
        case hello(Hello)
        case heartbeat
        case progress(WireLease?, JobProgress?)
        case outcome(WireLease?, Outcome)
        case draining
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
                labels: CRead.map(hello.n_labels, hello.labels, key: \.key, value: \.value)))
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_HEARTBEAT:
            body = .heartbeat
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_PROGRESS:
            let update = m.progress?.pointee
            body = .progress(CRead.message(update?.lease, as: WireLease.self), CRead.message(update?.progress, as: JobProgress.self))
        case SPOOL__V1__WORKER_MESSAGE__MESSAGE_OUTCOME:
            guard let outcome = m.outcome?.pointee else { body = .none; return }
            let lease = CRead.message(outcome.lease, as: WireLease.self)
            switch outcome.outcome_case {
            case SPOOL__V1__JOB_OUTCOME__OUTCOME_RESULT:
                body = .outcome(lease, .result(CRead.bytes(outcome.result)))
            case SPOOL__V1__JOB_OUTCOME__OUTCOME_FAILURE:
                let failure = outcome.failure?.pointee
                body = .outcome(lease, .failure(message: CRead.string(failure?.message), permanent: (failure?.permanent ?? 0) != 0,
                                                retryAfterMs: failure?.retry_after_ms ?? 0))
            case SPOOL__V1__JOB_OUTCOME__OUTCOME_RELEASED:
                body = .outcome(lease, .released(CRead.string(outcome.released)))
            default:
                body = .outcome(lease, .none)
            }
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
        case .outcome(let lease, let outcome):
            c.pointee.message_case = SPOOL__V1__WORKER_MESSAGE__MESSAGE_OUTCOME
            let o = arena.cStruct(spool__v1__job_outcome__init)
            o.pointee.lease = lease.map(arena.message)
            switch outcome {
            case .none:
                break
            case .result(let bytes):
                o.pointee.outcome_case = SPOOL__V1__JOB_OUTCOME__OUTCOME_RESULT
                o.pointee.result = arena.bytes(bytes)
            case .failure(let message, let permanent, let retryAfterMs):
                o.pointee.outcome_case = SPOOL__V1__JOB_OUTCOME__OUTCOME_FAILURE
                let f = arena.cStruct(spool__v1__job_failure__init)
                f.pointee.message = arena.string(message)
                f.pointee.permanent = permanent ? 1 : 0
                f.pointee.retry_after_ms = retryAfterMs
                o.pointee.failure = f
            case .released(let reason):
                o.pointee.outcome_case = SPOOL__V1__JOB_OUTCOME__OUTCOME_RELEASED
                o.pointee.released = arena.string(reason)
            }
            c.pointee.outcome = o
        case .draining:
            c.pointee.message_case = SPOOL__V1__WORKER_MESSAGE__MESSAGE_DRAINING
            c.pointee.draining = arena.cStruct(spool__v1__worker_draining__init)
        }
    }
}

/// spool.v1.WorkerCommand: what the server sends a worker.
public struct WorkerCommandMessage: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public struct Assignment: Equatable, Sendable {
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

        public init() {}
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
        case welcome(workerId: String, heartbeatIntervalMs: Int64)
        case assign(Assignment)
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
                            heartbeatIntervalMs: m.welcome?.pointee.heartbeat_interval_ms ?? 0)
        case SPOOL__V1__WORKER_COMMAND__COMMAND_ASSIGN:
            guard let a = m.assign?.pointee else { body = .none; return }
            var assignment = Assignment()
            assignment.lease = CRead.message(a.lease, as: WireLease.self) ?? WireLease()
            assignment.type = CRead.string(a.type)
            assignment.queue = CRead.string(a.queue)
            assignment.payload = CRead.bytes(a.payload)
            assignment.maxAttempts = a.max_attempts
            assignment.priority = a.priority
            assignment.deadlineMs = a.deadline_ms
            assignment.leaseMs = a.lease_ms
            assignment.labels = CRead.map(a.n_labels, a.labels, key: \.key, value: \.value)
            assignment.batchId = CRead.string(a.batch_id)
            body = .assign(assignment)
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
        case .welcome(let workerId, let interval):
            c.pointee.command_case = SPOOL__V1__WORKER_COMMAND__COMMAND_WELCOME
            let w = arena.cStruct(spool__v1__worker_welcome__init)
            w.pointee.worker_id = arena.string(workerId)
            w.pointee.heartbeat_interval_ms = interval
            c.pointee.welcome = w
        case .assign(let assignment):
            c.pointee.command_case = SPOOL__V1__WORKER_COMMAND__COMMAND_ASSIGN
            let a = arena.cStruct(spool__v1__job_assignment__init)
            a.pointee.lease = arena.message(assignment.lease)
            a.pointee.type = arena.string(assignment.type)
            a.pointee.queue = arena.string(assignment.queue)
            a.pointee.payload = arena.bytes(assignment.payload)
            a.pointee.max_attempts = assignment.maxAttempts
            a.pointee.priority = assignment.priority
            a.pointee.deadline_ms = assignment.deadlineMs
            a.pointee.lease_ms = assignment.leaseMs
            (a.pointee.n_labels, a.pointee.labels) = arena.map(
                assignment.labels, initialize: spool__v1__job_assignment__labels_entry__init, key: \.key, value: \.value)
            a.pointee.batch_id = arena.string(assignment.batchId)
            c.pointee.assign = a
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
