import ArgumentParser
@preconcurrency import Dispatch
import GRPCH2
import NIOCore
import NIOPosix
import SpoolCore
import SpoolHandlers
import SpoolServer
import SpoolSQLite

#if canImport(Glibc)
import Glibc
#endif

@main
struct Spoold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spoold",
        abstract: "Spool's server: a durable job queue with a gRPC face (h2c).")

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:50051"

    @Option(help: "The SQLite database file, created if missing (WAL mode; -wal and -shm files sit beside it).")
    var db = "spool.db"

    @Option(help: "full: fsync every commit (survives power loss); normal: fsync at checkpoints (survives a crash of spoold).")
    var durability = SQLiteDatabase.Durability.full

    @Option(help: "Most jobs running at once, over all queues.")
    var workers = 8

    @Option(help: "Most jobs of one queue running at once.")
    var concurrency = 4

    @Option(help: "Most waiting jobs per queue; more get RESOURCE_EXHAUSTED (0: no limit).")
    var maxDepth = 1_000_000

    @Option(help: "Hours finished jobs are kept before they are pruned.")
    var retentionHours = 168.0

    @Option(help: "Largest request message accepted, in bytes; larger ones get RESOURCE_EXHAUSTED.")
    var maxReceiveMessageSize = 4 * 1024 * 1024

    @Option(help: "Most concurrent calls per connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).")
    var maxConcurrentStreams: UInt32 = 1000

    @Option(help: "Event-loop threads; the default is one per core.")
    var threads = System.coreCount

    @Option(help: "Seconds that in-flight calls get to finish on SIGTERM/SIGINT.")
    var shutdownGrace = 10.0

    func validate() throws {
        guard parseListen() != nil else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:50051 (got \"\(listen)\")")
        }
        guard maxReceiveMessageSize > 0 else { throw ValidationError("--max-receive-message-size must be positive") }
        guard maxConcurrentStreams > 0 else { throw ValidationError("--max-concurrent-streams must be positive") }
        guard workers > 0 else { throw ValidationError("--workers must be positive") }
        guard concurrency > 0 else { throw ValidationError("--concurrency must be positive") }
        guard maxDepth >= 0 else { throw ValidationError("--max-depth must not be negative") }
        guard retentionHours > 0 else { throw ValidationError("--retention-hours must be positive") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must not be negative") }
    }

    private func parseListen() -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"),
              let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        let (host, port) = parseListen()!
        var configuration = GRPCServer.Configuration()
        configuration.host = host
        configuration.port = port
        configuration.maxReceiveMessageSize = maxReceiveMessageSize
        configuration.maxConcurrentStreams = maxConcurrentStreams

        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: db, durability: durability)
        } catch {
            throw ValidationError("--db: \(error)")
        }
        defer { withExtendedLifetime(database) {} }
        Log.line("spoold: database \(db) (schema \((try? database.schemaVersion()) ?? 0), durability \(durability))")

        let (signals, signalSources) = Signals.watch([SIGTERM, SIGINT])
        defer { signalSources.forEach { $0.cancel() } }

        var engineConfiguration = EngineConfiguration()
        engineConfiguration.workers = workers
        engineConfiguration.queueDefaults.concurrency = concurrency
        engineConfiguration.queueDefaults.maxDepth = maxDepth
        engineConfiguration.retentionMs = Int64(retentionHours * 3_600_000)
        let clock = SystemClock()
        let engine = QueueEngine(configuration: engineConfiguration, store: try SQLiteJobStore(database: database),
                                 clock: clock, handlers: BuiltinHandlers.all(clock: clock))
        let started = ContinuousClock.now
        let recovery = try await engine.start()
        Log.line("spoold: recovered \(recovery.queued) queued, \(recovery.scheduled) scheduled, "
                 + "\(recovery.requeued) interrupted and queued again, \(recovery.failed) interrupted on their last attempt "
                 + "in \(started.duration(to: .now))")

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let server: SpoolServer
        do {
            server = try await SpoolServer.start(engine: engine, configuration: configuration, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw ValidationError("cannot listen on \(listen): \(error)")
        }
        Log.line("spoold: listening on \(host):\(server.port)")

        let signal = await signals.first { _ in true }
        Log.line("spoold: received signal \(signal ?? 0), shutting down")
        await server.shutdown(gracePeriod: .milliseconds(Int(shutdownGrace * 1000)))
        try await group.shutdownGracefully()
        Log.line("spoold: stopped")
    }
}

/// SIGTERM and SIGINT as an async sequence, instead of their default action.
enum Signals {
    /// The sources must be kept (and cancelled) by the caller.
    static func watch(_ numbers: [Int32]) -> (AsyncStream<Int32>, [any DispatchSourceSignal]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        return (stream, sources)
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
