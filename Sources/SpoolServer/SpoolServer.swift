import GRPCH2
import NIOCore

/// Spool's gRPC server: every service registered on one router, served by
/// GRPCH2.
public final class SpoolServer: Sendable {
    /// The services a client can reach; health reports each.
    public static let services = ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                  "grpc.reflection.v1alpha.ServerReflection"]

    public let health: HealthService
    private let server: GRPCServer

    public var port: Int { server.port }

    private init(health: HealthService, server: GRPCServer) {
        self.health = health
        self.server = server
    }

    public static func start(
        configuration: GRPCServer.Configuration, group: any EventLoopGroup
    ) async throws -> SpoolServer {
        let health = HealthService(services: services)
        var router = Router()
        health.register(in: &router)
        ReflectionService().register(in: &router)
        let server = try await GRPCServer.start(router: router, configuration: configuration, group: group)
        return SpoolServer(health: health, server: server)
    }

    /// Tells health watchers NOT_SERVING and ends their calls, then drains
    /// the transport (see `GRPCServer.shutdown`).
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        health.setAll(.notServing)
        await health.endWatches()
        await server.shutdown(gracePeriod: gracePeriod)
    }
}
