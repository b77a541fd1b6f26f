import Foundation
import SpoolCore
import SpoolHandlers
import Yams

/// Everything spoold can be told (docs/design.md §8): read from one optional YAML
/// file, then overridden by flags. Every default serves the README's first
/// command. docs/configuration.md shows every key.
public struct SpoolConfiguration: Sendable {
    public var listen = "127.0.0.1:50051"
    public var db = "spool.db"
    /// "full" or "normal" (see `SQLiteDatabase.Durability`).
    public var durability = "full"
    /// Event-loop threads; nil: one per core.
    public var threads: Int?
    public var maxReceiveMessageSize = 4 * 1024 * 1024
    public var maxConcurrentStreams: UInt32 = 1000
    /// Connections open at once; one more is closed as soon as it is accepted.
    public var maxConnections = 10_000
    /// Seconds an HTTP/1.1 connection may wait between requests.
    public var httpIdleTimeoutSeconds = 60.0
    /// Progress streams one connection, and the whole server, may have open
    /// at once; more get RESOURCE_EXHAUSTED.
    public var progressStreams = ProgressStreamLimits()
    public var shutdownGraceSeconds = 10.0
    /// Whether the gRPC port serves HTTP/1.1 too (docs/http.md).
    public var http = true
    /// When any is set, every call but health checks needs
    /// `authorization: Bearer <token>` of the kind its service takes.
    public var tokens = Tokens()
    /// nil: cleartext (h2c), the default for the embedded loopback setup.
    public var tls: TLSSettings?
    public var engine = EngineConfiguration()
    /// With a PostgreSQL db: the HOST:PORT other nodes and clients reach this
    /// node at, kept in the leader lease; nil: the listen address.
    public var advertise: String?
    /// With a PostgreSQL db: how long the leader's lease lasts unrenewed,
    /// which bounds how long a dead leader goes unreplaced (docs/cluster.md).
    public var leaseSeconds = 4.0
    /// Job types run by the `exec` handler.
    public var execTypes: [String: ExecHandler.Command] = [:]

    public init() {}

    public static let durabilities = ["full", "normal"]

    /// The range of every number spoold can be told (docs/guarantees.md: Limits): the
    /// file and the flags are held to them, so no setting can make the
    /// engine's sums overflow or its memory balloon.
    public enum Bounds {
        /// Durations (timeouts, backoff, grace periods): ten years, as a job's own.
        public static let maxSeconds = Double(JobLimits.maxDurationMs / 1000)
        public static let maxRetentionHours = Double(JobLimits.maxDurationMs / 3_600_000)
        public static let workers = 1...10_000
        public static let threads = 1...256
        public static let maxReceiveMessageSize = 1...(256 << 20)
        public static let maxConcurrentStreams = 1...100_000
        public static let maxConnections = 1...1_000_000
        public static let httpIdleTimeoutSeconds = 0.001...86_400.0
        public static let leaseSeconds = 1.0...600.0
        public static let maxBatchSize = 1...1_000_000
        public static let maxQueues = 1...1_000_000
        public static let progressBufferBytes = (1 << 20)...(1 << 40)
        public static let progressStreams = 1...1_000_000
        public static let concurrency = 1...1_000_000
        public static let maxDepth = 0...1_000_000_000
        public static let lockCapacity = 1...1_000_000
        public static let backoffMultiplier = 1.0...1_000
        public static let ratePerSecond = 1e-6...1e9
        public static let burst = 1.0...1e9
        /// What a "rate limited" answer multiplies a rate by (1: unchanged), and
        /// the share of it each success adds back.
        public static let rateDecrease = 0.01...1.0
        public static let rateRecovery = 0.0001...1.0
    }

    /// Reads `path`; a missing or invalid file is refused naming the key.
    public init(contentsOf path: String) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(path): cannot read the config file: \(error.localizedDescription)")
        }
        try self.init(yaml: text, file: path)
    }

    public init(yaml: String, file: String = "config") throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError("\(file): not valid YAML: \(error)")
        }
        guard let root else { return }  // an empty file: every default
        try read(ConfigNode(node: root, path: "", file: file))
    }

    private mutating func read(_ root: ConfigNode) throws(ConfigurationError) {
        let keys = ["listen", "db", "durability", "workers", "threads", "max_receive_message_size",
                    "max_concurrent_streams", "max_connections", "http_idle_timeout", "shutdown_grace", "retention_hours", "max_batch_size", "max_queues", "progress_buffer_bytes",
                    "max_progress_streams_per_connection", "max_progress_streams", "http", "advertise", "lease_seconds", "auth", "tls", "queue_defaults", "queues", "locks", "rate_keys", "types", "schedules"]
        var queues: ConfigNode?
        var schedules: ConfigNode?
        for (key, value) in try root.entries(allowed: keys) {
            switch key {
            case "listen": listen = try value.string()
            case "db": db = try value.string()
            case "durability": durability = try value.string(oneOf: Self.durabilities)
            case "workers": engine.workers = try value.int(in: Bounds.workers)
            case "threads": threads = try value.int(in: Bounds.threads)
            case "max_receive_message_size": maxReceiveMessageSize = try value.int(in: Bounds.maxReceiveMessageSize)
            case "max_concurrent_streams": maxConcurrentStreams = UInt32(try value.int(in: Bounds.maxConcurrentStreams))
            case "max_connections": maxConnections = try value.int(in: Bounds.maxConnections)
            case "http_idle_timeout": httpIdleTimeoutSeconds = try value.number(in: Bounds.httpIdleTimeoutSeconds)
            case "shutdown_grace": shutdownGraceSeconds = try value.number(in: 0...Bounds.maxSeconds)
            case "retention_hours":
                engine.retentionMs = Int64(try value.number(in: 0...Bounds.maxRetentionHours, orAbove: true) * 3_600_000)
            case "max_batch_size": engine.maxBatchSize = try value.int(in: Bounds.maxBatchSize)
            case "max_queues": engine.maxQueues = try value.int(in: Bounds.maxQueues)
            case "progress_buffer_bytes": engine.subscriberBufferBytes = try value.int(in: Bounds.progressBufferBytes)
            case "max_progress_streams_per_connection":
                progressStreams.perConnection = try value.int(in: Bounds.progressStreams)
            case "max_progress_streams": progressStreams.total = try value.int(in: Bounds.progressStreams)
            case "http": http = try value.bool()
            case "advertise": advertise = try value.string()
            case "lease_seconds": leaseSeconds = try value.number(in: Bounds.leaseSeconds)
            case "auth":
                for (key, list) in try value.entries(allowed: ["tokens", "worker_tokens"]) {
                    let read = try list.strings()
                    if let empty = read.firstIndex(of: "") {
                        throw ConfigNode(node: list.node, path: "\(list.path)[\(empty)]", file: list.file)
                            .error("a token must not be empty")
                    }
                    if key == "tokens" { tokens.clients = read } else { tokens.workers = read }
                }
                if tokens.clients.isEmpty && !tokens.workers.isEmpty {
                    throw value.error("worker_tokens needs tokens too: with auth on, submitting services need their own tokens")
                }
            case "tls":
                var paths: [String: String] = [:]
                for (key, path) in try value.entries(allowed: ["cert", "key", "client_ca"]) {
                    paths[key] = try path.string()
                    if paths[key]!.isEmpty { throw path.error("must be a file path") }
                }
                guard let cert = paths["cert"], let key = paths["key"] else {
                    throw value.error("needs cert and key (PEM files); client_ca is optional")
                }
                tls = TLSSettings(certificatePath: cert, keyPath: key, clientCAPath: paths["client_ca"])
            case "queue_defaults":
                let name = engine.queueDefaults.name
                engine.queueDefaults = try Self.queue(named: name, from: value, defaults: engine.queueDefaults)
            case "queues": queues = value  // read after queue_defaults, wherever it stands
            case "schedules": schedules = value  // read after the types they enqueue

            case "locks":
                for (lock, capacity) in try value.entries() {
                    engine.lockCapacities[lock] = try capacity.int(in: Bounds.lockCapacity)
                }
            case "rate_keys":
                for (rateKey, limit) in try value.entries() {
                    engine.rateKeys[rateKey] = try Self.rateLimit(limit)
                }
            case "types":
                for (type, settings) in try value.entries() {
                    try readType(type, settings)
                }
            default:
                preconditionFailure("\(key) is allowed but not read")
            }
        }
        for (name, settings) in try queues?.entries() ?? [] {
            engine.queues.append(try Self.queue(named: name, from: settings, defaults: engine.queueDefaults))
        }
        for (name, settings) in try schedules?.entries() ?? [] {
            engine.schedules.append(try readSchedule(name, settings))
        }
    }

    /// A cron schedule (docs/workflows.md#schedules): `cron`, `time_zone`
    /// (IANA, default UTC), `overlap`, `missed`, and the `job` to enqueue.
    private func readSchedule(_ name: String, _ settings: ConfigNode) throws(ConfigurationError) -> Schedule {
        guard !name.isEmpty, name.utf8.count <= JobLimits.maxNameBytes else {
            throw settings.error("a schedule name is 1 to \(JobLimits.maxNameBytes) bytes")
        }
        var cron: CronExpression?, zone = TimeZone(identifier: "UTC")!, zoneName = "UTC", job: JobRequest?
        var overlap = Schedule.Overlap.skip, missed = Schedule.Missed.runOnce
        for (key, value) in try settings.entries(allowed: ["cron", "time_zone", "overlap", "missed", "job"]) {
            switch key {
            case "cron":
                let text = try value.string()
                do throws(CronExpression.Invalid) { cron = try CronExpression(text) } catch { throw value.error(error.description) }
            case "time_zone":
                let identifier = try value.string()
                guard let found = TimeZone(identifier: identifier) else {
                    throw value.error("\"\(identifier)\" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)")
                }
                zone = found
                zoneName = identifier
            case "overlap": overlap = Schedule.Overlap(rawValue: try value.string(oneOf: Schedule.Overlap.allCases.map(\.rawValue)))!
            case "missed": missed = Schedule.Missed(rawValue: try value.string(oneOf: Schedule.Missed.allCases.map(\.rawValue)))!
            default: job = try scheduledJob(value)
            }
        }
        guard let cron else { throw settings.error("needs cron, e.g. \"0 3 * * *\" (03:00 every day)") }
        guard let job else { throw settings.error("needs job: the job to enqueue, with at least its type") }
        return Schedule(name: name, cron: cron, timeZone: zone, timeZoneName: zoneName, job: job, overlap: overlap, missed: missed)
    }

    private func scheduledJob(_ node: ConfigNode) throws(ConfigurationError) -> JobRequest {
        var request = JobRequest(type: "")
        for (key, value) in try node.entries(allowed: ["type", "queue", "payload", "priority", "lock_keys", "rate_key", "rate_cost",
                                                        "max_attempts", "timeout", "labels"]) {
            switch key {
            case "type": request.type = try value.string()
            case "queue": request.queue = try value.string()
            case "payload": request.payload = Array(try value.string().utf8)
            case "priority": request.priority = Int32(try value.int(in: Int(Int32.min)...Int(Int32.max)))
            case "lock_keys": request.lockKeys = try value.strings()
            case "rate_key": request.rateKey = try value.string()
            case "rate_cost": request.rateCost = Int32(try value.int(in: 1...1_000_000_000))
            case "max_attempts": request.maxAttempts = Int32(try value.int(in: 1...Int(JobLimits.maxAttempts)))
            case "timeout": request.timeoutMs = try value.milliseconds()
            default:
                for (label, text) in try value.entries() { request.labels[label] = try text.string() }
            }
        }
        guard !request.type.isEmpty else { throw node.error("needs type") }
        let known = request.type.hasPrefix("spool.") || execTypes[request.type] != nil || engine.remoteTypes[request.type] != nil
        guard known else { throw node.error("type \"\(request.type)\" is neither built in nor configured under types") }
        if !request.rateKey.isEmpty && engine.rateKeys[request.rateKey] == nil {
            throw node.error("rate_key \"\(request.rateKey)\" is not configured under rate_keys")
        }
        // Checked here as Enqueue would check it: otherwise every fire would be refused.
        if request.rateCost > 1 {
            guard let limit = engine.rateKeys[request.rateKey] else { throw node.error("rate_cost needs a rate_key") }
            if Double(request.rateCost) > limit.burst {
                throw node.error("rate_cost \(request.rateCost) is more than rate key \(request.rateKey)'s burst: no fire could start")
            }
        }
        return request
    }

    private mutating func readType(_ type: String, _ settings: ConfigNode) throws(ConfigurationError) {
        guard !type.hasPrefix("spool.") else { throw settings.error("types named spool.* are built in") }
        guard !type.isEmpty, type.utf8.count <= JobLimits.maxNameBytes else {
            throw settings.error("a type name is 1 to \(JobLimits.maxNameBytes) bytes")
        }
        var command: ExecHandler.Command?
        var remote: RemoteTypeConfiguration?
        for (key, value) in try settings.entries(allowed: ["queue", "exec", "remote"]) {
            switch key {
            case "queue": engine.typeQueues[type] = try value.string()
            case "remote": remote = try Self.remote(value)
            default: command = try Self.command(value)
            }
        }
        switch (command, remote) {
        case (let command?, nil): execTypes[type] = command
        case (nil, let remote?): engine.remoteTypes[type] = remote
        case (nil, nil): throw settings.error("needs exec (a command spoold runs) or remote (run by remote workers)")
        case (_?, _?): throw settings.error("has both exec and remote; a type runs one way")
        }
    }

    /// `remote: {lease: 30}`, or `remote: {}` for the defaults.
    private static func remote(_ node: ConfigNode) throws(ConfigurationError) -> RemoteTypeConfiguration {
        var remote = RemoteTypeConfiguration()
        let range = RemoteTypeConfiguration.leaseRangeMs
        for (_, value) in try node.entries(allowed: ["lease"]) {
            remote.leaseMs = try value.milliseconds()
            guard range.contains(remote.leaseMs) else {
                throw value.error("must be from \(range.lowerBound / 1000) to \(range.upperBound / 1000) seconds")
            }
        }
        return remote
    }

    private static func command(_ node: ConfigNode) throws(ConfigurationError) -> ExecHandler.Command {
        var argv: [String] = []
        var command = ExecHandler.Command(executable: "")
        for (key, value) in try node.entries(allowed: ["command", "env", "working_directory", "termination_grace", "persistent"]) {
            switch key {
            case "command":
                argv = try value.strings()
                guard !argv.isEmpty, !argv[0].isEmpty else { throw value.error("must name a program, e.g. [python3, render.py]") }
            case "env":
                for (name, setting) in try value.entries() {
                    guard !name.isEmpty, !name.contains("="), !name.contains("\0") else {
                        throw setting.error("not an environment variable name")
                    }
                    command.environment[name] = try setting.string()
                }
            case "working_directory":
                command.workingDirectory = try value.string()
            case "persistent":
                command.persistent = try value.bool()
            default:
                command.terminationGraceMs = try value.milliseconds()
            }
        }
        guard !argv.isEmpty else { throw node.error("needs command, e.g. [python3, render.py]") }
        command.executable = argv[0]
        command.arguments = Array(argv.dropFirst())
        return command
    }

    private static func queue(
        named name: String, from node: ConfigNode, defaults: QueueConfiguration
    ) throws(ConfigurationError) -> QueueConfiguration {
        var queue = defaults
        queue.name = name
        let keys = ["concurrency", "max_depth", "max_attempts", "timeout", "max_wait", "backoff", "rate", "fair_by"]
        for (key, value) in try node.entries(allowed: keys) {
            switch key {
            case "concurrency": queue.concurrency = try value.int(in: Bounds.concurrency)
            case "max_depth": queue.maxDepth = try value.int(in: Bounds.maxDepth)
            case "max_attempts": queue.maxAttempts = Int32(try value.int(in: 1...Int(JobLimits.maxAttempts)))
            case "timeout": queue.timeoutMs = try value.milliseconds()
            case "max_wait":
                // 0: for ever, as for timeout.
                let ms = try value.milliseconds()
                queue.maxWaitMs = ms > 0 ? ms : nil
            case "backoff": queue.backoff = try backoff(value, defaults: queue.backoff)
            case "fair_by":
                let label = try value.string()
                guard !label.isEmpty, label.utf8.count <= JobLimits.maxLabelKeyBytes else {
                    throw value.error("a label key of 1 to \(JobLimits.maxLabelKeyBytes) bytes, e.g. tenant")
                }
                queue.fairBy = label
            default: queue.rateLimit = try rateLimit(value)
            }
        }
        return queue
    }

    private static func backoff(_ node: ConfigNode, defaults: Backoff) throws(ConfigurationError) -> Backoff {
        var initialMs = defaults.initialMs, multiplier = defaults.multiplier, maxMs = defaults.maxMs
        for (key, value) in try node.entries(allowed: ["initial", "multiplier", "max"]) {
            switch key {
            case "initial": initialMs = try value.milliseconds()
            case "multiplier": multiplier = try value.number(in: Bounds.backoffMultiplier)
            default: maxMs = try value.milliseconds()
            }
        }
        guard maxMs >= initialMs else { throw node.error("max must not be below initial") }
        return Backoff(initialMs: initialMs, multiplier: multiplier, maxMs: maxMs)
    }

    /// A token bucket: one of per_second, per_minute and per_hour, as quotas
    /// are written; burst; and what a "rate limited" answer does.
    private static func rateLimit(_ node: ConfigNode) throws(ConfigurationError) -> RateLimit {
        var perSecond: Double?, burst: Double?, recovery = RateRecovery()
        let units: [String: Double] = ["per_second": 1, "per_minute": 60, "per_hour": 3600]
        for (key, value) in try node.entries(allowed: ["per_second", "per_minute", "per_hour", "burst", "rate_limited"]) {
            if let seconds = units[key] {
                guard perSecond == nil else { throw node.error("takes one of per_second, per_minute and per_hour") }
                let bounds = Bounds.ratePerSecond
                perSecond = try value.number(in: (bounds.lowerBound * seconds)...(bounds.upperBound * seconds)) / seconds
            } else if key == "burst" {
                burst = try value.number(in: Bounds.burst)
            } else {
                for (what, setting) in try value.entries(allowed: ["decrease", "recovery"]) {
                    if what == "decrease" { recovery.decrease = try setting.number(in: Bounds.rateDecrease) }
                    else { recovery.recovery = try setting.number(in: Bounds.rateRecovery) }
                }
            }
        }
        guard let perSecond else { throw node.error("needs per_second, per_minute or per_hour") }
        return RateLimit(ratePerSecond: perSecond, burst: burst, recovery: recovery)
    }
}
