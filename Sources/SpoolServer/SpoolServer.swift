import GRPCH2
import NIOCore
import SpoolCore

/// Spool's gRPC server: every service registered on one router, served by
/// GRPCH2.
public final class SpoolServer: Sendable {
    /// The services a client can reach; health reports each.
    public static let services = [JobQueueService.name, WorkersService.name, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                  "grpc.reflection.v1alpha.ServerReflection"]

    public let health: HealthService
    public let engine: QueueEngine
    private let server: GRPCServer

    public var port: Int { server.port }

    private init(health: HealthService, engine: QueueEngine, server: GRPCServer) {
        self.health = health
        self.engine = engine
        self.server = server
    }

    /// Serves `engine`, which must be started. With tokens, every call but
    /// health checks needs `authorization: Bearer <token>` (see `Tokens`).
    /// With `http`, the port serves HTTP/1.1 clients too (`HTTPFace`).
    public static func start(
        engine: QueueEngine, configuration: GRPCServer.Configuration, tokens: Tokens = Tokens(),
        progressStreams: ProgressStreamLimits = ProgressStreamLimits(), metrics: MetricsEndpoint = MetricsEndpoint(),
        http: Bool = true, httpIdleTimeout: TimeAmount = .seconds(60), group: any EventLoopGroup
    ) async throws -> SpoolServer {
        let health = HealthService(services: services)
        var configuration = configuration
        if http {
            let face = HTTPFace(engine: engine, health: health, tokens: tokens, metrics: metrics,
                                progressStreams: progressStreams, maxBodyBytes: configuration.maxReceiveMessageSize,
                                idleTimeout: httpIdleTimeout)
            configuration.http1 = { channel in try face.install(on: channel) }
        }
        var router = Router()
        JobQueueService(engine: engine, progressStreams: progressStreams).register(in: &router)
        WorkersService(engine: engine).register(in: &router)
        health.register(in: &router)
        ReflectionService().register(in: &router)
        if tokens.isEnabled {
            let authorization = BearerAuthorization(tokens)
            router = router.checking(except: BearerAuthorization.exemptPrefixes, authorization.check)
        }
        let server = try await GRPCServer.start(router: router, configuration: configuration, group: group)
        return SpoolServer(health: health, engine: engine, server: server)
    }

    /// A follower's server (docs/cluster.md): health and reflection of its
    /// own, every other call forwarded to the leader through `link`, and
    /// HTTP/1.1 clients sent to the leader. Health starts NOT_SERVING; the
    /// caller sets it as the leader becomes reachable or not.
    public static func startFollower(
        link: LeaderLink, configuration: GRPCServer.Configuration, tokens: Tokens = Tokens(), http: Bool = true,
        group: any EventLoopGroup
    ) async throws -> FollowerServer {
        let health = HealthService(services: services)
        health.setAll(.notServing)
        var configuration = configuration
        if http {
            let secure = configuration.transport != nil
            configuration.http1 = { channel in
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(RedirectToLeader(link: link, health: health, secure: secure))
            }
        }
        var router = Router()
        health.register(in: &router)
        ReflectionService().register(in: &router)
        router.fallback = link.forwarder
        if tokens.isEnabled {
            let authorization = BearerAuthorization(tokens)
            router = router.checking(except: BearerAuthorization.exemptPrefixes, authorization.check)
        }
        let server = try await GRPCServer.start(router: router, configuration: configuration, group: group)
        return FollowerServer(health: health, server: server)
    }

    /// Tells health watchers NOT_SERVING and ends their calls; stops the
    /// engine (new jobs get UNAVAILABLE, running ones get the grace period,
    /// progress streams end UNAVAILABLE); then drains the transport (see
    /// `GRPCServer.shutdown`).
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        health.setAll(.notServing)
        await health.endWatches()
        let grace = gracePeriod.components
        await engine.shutdown(gracePeriodMs: grace.seconds * 1000 + grace.attoseconds / 1_000_000_000_000_000)
        await server.shutdown(gracePeriod: gracePeriod)
    }
}

/// A follower's server (`SpoolServer.startFollower`).
public final class FollowerServer: Sendable {
    public let health: HealthService
    private let server: GRPCServer

    public var port: Int { server.port }

    init(health: HealthService, server: GRPCServer) {
        self.health = health
        self.server = server
    }

    /// Ends health watches and forwarded calls (their clients call again,
    /// reaching the leader this node is about to become, or another).
    public func shutdown(gracePeriod: Duration = .seconds(1)) async {
        health.setAll(.notServing)
        await health.endWatches()
        await server.shutdown(gracePeriod: gracePeriod)
    }
}
