import ArgumentParser
import CoreMetrics
@preconcurrency import Dispatch
import GRPCH2
import NIOCore
import NIOPosix
import SpoolCore
import SpoolHandlers
import SpoolServer
import SpoolPostgres
import SpoolSQLite
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

@main
struct Spoold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spoold",
        abstract: "Spool's server: a durable job queue with a gRPC face, and a dashboard, JSON API and /metrics on the same port.")

    @Option(help: "A YAML config file (docs/configuration.md); the flags below override it.")
    var config: String?

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one). Default 127.0.0.1:50051.")
    var listen: String?

    @Option(help: "The SQLite database file, created if missing (WAL mode; -wal and -shm files sit beside it), or a postgres:// URL (several nodes on one database, docs/cluster.md). Default spool.db.")
    var db: String?

    @Option(help: "full (default): fsync every commit (survives power loss); normal: fsync at checkpoints (survives a crash of spoold).")
    var durability: SQLiteDatabase.Durability?

    @Option(help: "Most jobs running at once, over all queues. Default 8.")
    var workers: Int?

    @Option(help: "Most jobs of one queue running at once, for queues the config file does not list. Default 4.")
    var concurrency: Int?

    @Option(help: "Most waiting jobs per queue, for queues the config file does not list; more get RESOURCE_EXHAUSTED (0: no limit). Default 1000000.")
    var maxDepth: Int?

    @Option(help: "Hours finished jobs are kept before they are pruned. Default 168.")
    var retentionHours: Double?

    @Option(help: "Largest request message accepted, in bytes; larger ones get RESOURCE_EXHAUSTED. Default 4194304.")
    var maxReceiveMessageSize: Int?

    @Option(help: "Most concurrent calls per connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). Default 1000.")
    var maxConcurrentStreams: UInt32?

    @Option(help: "Event-loop threads; the default is one per core.")
    var threads: Int?

    @Option(help: "Seconds that in-flight calls get to finish on SIGTERM/SIGINT. Default 10.")
    var shutdownGrace: Double?

    @Option(help: "Serve TLS (ALPN h2, and http/1.1 for browsers) with this PEM certificate chain; needs --tls-key. Default: cleartext.")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Ask clients for a certificate signed by the CA(s) in this PEM file (mutual TLS).")
    var tlsClientCa: String?

    @Flag(inversion: .prefixedNo, help: "Serve HTTP/1.1 on the gRPC port too: the dashboard, the JSON API and /metrics (docs/http.md). Default on.")
    var http: Bool?

    @Option(help: "Most jobs one EnqueueBatch may carry; more get INVALID_ARGUMENT before the batch is unpacked. Default 10000.")
    var maxBatchSize: Int?

    @Option(help: "With PostgreSQL: HOST:PORT other nodes and clients reach this node at. Default: the listen address.")
    var advertise: String?

    @Option(help: "With PostgreSQL: seconds the leader's lease lasts unrenewed, so at most this long a dead leader goes unreplaced. Default 4.")
    var leaseSeconds: Double?

    /// Every number is held to the range the config file's is (docs/guarantees.md: Limits).
    func validate() throws {
        typealias Bounds = SpoolConfiguration.Bounds
        let integers: [(String, Int?, ClosedRange<Int>)] = [
            ("--max-receive-message-size", maxReceiveMessageSize, Bounds.maxReceiveMessageSize),
            ("--workers", workers, Bounds.workers), ("--concurrency", concurrency, Bounds.concurrency),
            ("--threads", threads, Bounds.threads), ("--max-depth", maxDepth, Bounds.maxDepth),
            ("--max-concurrent-streams", maxConcurrentStreams.map(Int.init), Bounds.maxConcurrentStreams),
            ("--max-batch-size", maxBatchSize, Bounds.maxBatchSize),
        ]
        for case let (flag, value?, range) in integers where !range.contains(value) {
            throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound) (got \(value))")
        }
        if let retentionHours, !(retentionHours > 0 && retentionHours <= Bounds.maxRetentionHours) {
            throw ValidationError("--retention-hours must be above 0 up to \(Int(Bounds.maxRetentionHours)) (ten years)")
        }
        if let leaseSeconds, !Bounds.leaseSeconds.contains(leaseSeconds) {
            throw ValidationError("--lease-seconds must be from 1 to 600 (got \(leaseSeconds))")
        }
        if let shutdownGrace, !(shutdownGrace >= 0 && shutdownGrace <= Bounds.maxSeconds) {
            throw ValidationError("--shutdown-grace must be from 0 to \(Int(Bounds.maxSeconds)) seconds (ten years)")
        }
    }

    private static func parseListen(_ listen: String) -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"),
              let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// The config file's settings with the flags laid over them.
    private func settings() throws -> SpoolConfiguration {
        var settings = SpoolConfiguration()
        if let config {
            do {
                settings = try SpoolConfiguration(contentsOf: config)
            } catch {
                throw ValidationError(error.description)
            }
        }
        if let listen { settings.listen = listen }
        if let db { settings.db = db }
        if let durability { settings.durability = durability.rawValue }
        if let workers { settings.engine.workers = workers }
        if let concurrency { settings.engine.queueDefaults.concurrency = concurrency }
        if let maxDepth { settings.engine.queueDefaults.maxDepth = maxDepth }
        if let retentionHours { settings.engine.retentionMs = Int64(retentionHours * 3_600_000) }
        if let maxReceiveMessageSize { settings.maxReceiveMessageSize = maxReceiveMessageSize }
        if let maxConcurrentStreams { settings.maxConcurrentStreams = maxConcurrentStreams }
        if let threads { settings.threads = threads }
        if let shutdownGrace { settings.shutdownGraceSeconds = shutdownGrace }
        if let maxBatchSize { settings.engine.maxBatchSize = maxBatchSize }
        if let http { settings.http = http }
        if let advertise { settings.advertise = advertise }
        if let leaseSeconds { settings.leaseSeconds = leaseSeconds }
        switch (tlsCert, tlsKey) {
        case let (cert?, key?):
            settings.tls = TLSSettings(certificatePath: cert, keyPath: key, clientCAPath: tlsClientCa ?? settings.tls?.clientCAPath)
        case (nil, nil):
            if let tlsClientCa {
                guard settings.tls != nil else { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
                settings.tls?.clientCAPath = tlsClientCa
            }
        default:
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard Self.parseListen(settings.listen) != nil else {
            let source = listen != nil ? "--listen" : "\(config ?? ""): listen"
            throw ValidationError("\(source) must be HOST:PORT, e.g. 127.0.0.1:50051 (got \"\(settings.listen)\")")
        }
        return settings
    }

    /// The PostgreSQL store `url` names, its schema created or migrated.
    private func openPostgres(_ url: String, leaseSeconds: Double) async throws -> PostgresJobStore {
        let source = db == nil && config != nil ? "\(config!): db" : "--db"
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: url)
        } catch {
            throw ValidationError("\(source): \(error)")
        }
        do {
            let store = try await PostgresJobStore.open(location, idleTransactionTimeout: .seconds(leaseSeconds / 2))
            Log.line("spoold: database \(location.description), Spool schema version \(try await store.schemaVersion())")
            return store
        } catch {
            throw ValidationError("\(source): cannot open \(location.description): \(error)")
        }
    }

    /// HOST:PORT a process on this machine reaches the server at: a wildcard
    /// host becomes loopback, an IPv6 address gets its brackets.
    static func reachable(_ host: String, _ port: Int) -> String {
        switch host {
        case "0.0.0.0", "": return "127.0.0.1:\(port)"
        case "::": return "[::1]:\(port)"
        default: return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// 32 random bytes as hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    func run() async throws {
        let settings = try settings()
        // Before anything makes a metric: the engine, the store and the transport report through it.
        let metrics = MetricsEndpoint()
        MetricsSystem.bootstrap(metrics.factory())
        let (host, port) = Self.parseListen(settings.listen)!
        var configuration = GRPCServer.Configuration()
        configuration.host = host
        configuration.port = port
        configuration.maxReceiveMessageSize = settings.maxReceiveMessageSize
        configuration.maxConcurrentStreams = settings.maxConcurrentStreams
        configuration.maxConnections = settings.maxConnections
        // A stalled progress stream holds at most this much in the transport
        // (the rest waits in the engine, under its budget); unary answers are
        // not held to it.
        configuration.responseBufferHighWaterMark = 32 * 1024
        if let tls = settings.tls {
            do {
                configuration.transport = try tls.serverTransport(http: settings.http)
            } catch {
                throw ValidationError(error.description)
            }
        }

        let signals = SignalLatch.watch([SIGTERM, SIGINT])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.threads ?? System.coreCount)
        let store: any JobStore
        // With PostgreSQL: the lease this node leads by (it follows until it holds it).
        var leadership: Leadership?
        if PostgresLocation.isPostgresURL(settings.db) {
            let postgres = try await openPostgres(settings.db, leaseSeconds: settings.leaseSeconds)
            store = postgres
            do {
                leadership = try await Leadership.follow(
                    store: postgres, settings: settings, configuration: configuration, tokens: settings.tokens,
                    group: group, signals: signals)
            } catch {
                try? await group.shutdownGracefully()
                throw ValidationError("cannot listen on \(settings.listen): \(error)")
            }
            guard let leadership else {
                postgres.close()
                try await group.shutdownGracefully()
                Log.line("spoold: stopped")
                return
            }
            configuration.port = leadership.port
        } else {
            let durability = SQLiteDatabase.Durability(rawValue: settings.durability)!
            let database: SQLiteDatabase
            do {
                database = try SQLiteDatabase(path: settings.db, durability: durability)
            } catch {
                // Name where the path came from: the flag (or its default), or the file.
                throw ValidationError(db == nil && config != nil ? "\(config!): db: \(error)" : "--db: \(error)")
            }
            Log.line("spoold: database \(settings.db) (schema \((try? database.schemaVersion()) ?? 0), durability \(durability))")
            store = try SQLiteJobStore(database: database)
        }

        // Exec jobs learn where to enqueue more work (SPOOL_SERVER) and, when tokens are
        // required, a token made now for them alone (SPOOL_TOKEN, never logged).
        var tokens = settings.tokens
        let jobToken = tokens.isEnabled ? Self.randomToken() : nil
        if let jobToken { tokens.clients.append(jobToken) }
        let endpoint = SpoolEndpoint()
        if port != 0 { endpoint.set(server: Self.reachable(host, port), token: jobToken) }
        let clock = SystemClock()
        var handlers = BuiltinHandlers.all(clock: clock)
        for (type, command) in settings.execTypes {
            handlers[type] = command.handler(endpoint: endpoint) { Log.line("spoold: \(type) \($0)") }
        }
        let engine = QueueEngine(configuration: settings.engine, store: store, clock: clock, handlers: handlers)
        let started = ContinuousClock.now
        let recovery = try await engine.start()
        Log.line("spoold: recovered \(recovery.queued) queued, \(recovery.scheduled) scheduled, "
                 + "\(recovery.requeued) interrupted and queued again, \(recovery.failed) interrupted on their last attempt "
                 + "in \(started.duration(to: .now).formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
        for job in recovery.corrupt.prefix(20) {
            Log.line("spoold: job \(job.id) failed as corrupt: its stored row cannot be taken back: \(job.problem)")
        }
        if recovery.corrupt.count > 20 {
            Log.line("spoold: \(recovery.corrupt.count - 20) more jobs failed as corrupt (error code \"corrupt\")")
        }

        let server: SpoolServer
        do {
            server = try await SpoolServer.start(engine: engine, configuration: configuration,
                                                 tokens: tokens,
                                                 progressStreams: settings.progressStreams, metrics: metrics,
                                                 http: settings.http,
                                                 httpIdleTimeout: .nanoseconds(Int64(settings.httpIdleTimeoutSeconds * 1e9)),
                                                 group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw ValidationError("cannot listen on \(settings.listen): \(error)")
        }
        endpoint.set(server: Self.reachable(host, server.port), token: jobToken)
        let auth = !settings.tokens.isEnabled ? "no auth"
            : settings.tokens.workers.isEmpty ? "bearer tokens required" : "bearer tokens required (separate worker tokens)"
        let remote = settings.engine.remoteTypes.keys.sorted()
        Log.line("spoold: job types \(handlers.keys.sorted().joined(separator: ", "))"
                 + (remote.isEmpty ? "" : "; remote types \(remote.joined(separator: ", "))") + "; \(auth)")
        if let tls = settings.tls {
            Log.line("spoold: TLS with \(tls.certificatePath)"
                     + (tls.clientCAPath.map { "; client certificates signed by \($0) required" } ?? ""))
        }
        if settings.http {
            Log.line("spoold: dashboard at http\(settings.tls == nil ? "" : "s")://\(host):\(server.port)/ "
                     + "(HTTP/1.1 on the gRPC port: /api/v1, /metrics)")
        }
        Log.line("spoold: listening on \(host):\(server.port)")

        leadership?.serving(server.health)

        let signal = await signals.wait()
        Log.line("spoold: received signal \(signal), shutting down")
        await server.shutdown(gracePeriod: .milliseconds(Int(settings.shutdownGraceSeconds * 1000)))
        if let leadership {
            await leadership.resign()
            (store as? PostgresJobStore)?.close()
        }
        try await group.shutdownGracefully()
        Log.line("spoold: stopped")
    }
}

/// SIGTERM and SIGINT, caught instead of their default action: the first
/// one received, waited for or polled. (`sources` is set once, before the
/// latch is shared; the rest is behind its Mutex.)
final class SignalLatch: @unchecked Sendable {
    private struct State {
        var received: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    private let state = Mutex(State())
    /// Kept for the process's life: a cancelled or freed source stops catching.
    private var sources: [any DispatchSourceSignal] = []

    static func watch(_ numbers: [Int32]) -> SignalLatch {
        let latch = SignalLatch()
        let sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak latch] in latch?.fire(number) }
            source.resume()
            return source
        }
        latch.sources = sources
        return latch
    }

    private func fire(_ number: Int32) {
        let waiters = state.withLock { state in
            if state.received == nil { state.received = number }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: number) }
    }

    /// The signal received so far, if any.
    var received: Int32? { state.withLock { $0.received } }

    /// Returns once a signal is received.
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let received = state.withLock { state in
                if state.received == nil { state.waiters.append(continuation) }
                return state.received
            }
            if let received { continuation.resume(returning: received) }
        }
    }

    /// Sleeps for `duration`, or less if a signal arrives.
    func sleep(_ duration: Duration) async {
        let end = ContinuousClock.now + duration
        while received == nil && ContinuousClock.now < end {
            try? await Task.sleep(for: min(.milliseconds(50), ContinuousClock.now.duration(to: end)))
        }
    }
}

/// One line to standard output, unbuffered: tests and supervisors read it.
enum Log {
    static func line(_ text: String) {
        var bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { return }
            offset += written
        }
    }
}

extension SQLiteDatabase.Durability: ExpressibleByArgument {}
