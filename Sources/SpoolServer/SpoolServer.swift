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
