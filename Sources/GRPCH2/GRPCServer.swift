import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A gRPC server over HTTP/2: cleartext (h2c with prior knowledge), or
/// whatever `Configuration.transport` puts in front (TLS). With
/// `Configuration.http1`, the same port also serves HTTP/1.x, told apart
/// by the connection's first bytes (`ProtocolSniffer`).
public final class GRPCServer: Sendable {
    /// Sent down every connection's pipeline when the server drains: gRPC
    /// connections send GOAWAY; an HTTP/1.x handler should end its streams.
    public struct DrainEvent: Sendable {
        public init() {}
    }

    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port; `GRPCServer.port` tells which.
        public var port = 50051
        /// Larger request messages are refused with RESOURCE_EXHAUSTED.
        public var maxReceiveMessageSize = 4 * 1024 * 1024
        /// Advertised in SETTINGS; nghttp2 refuses streams beyond it.
        public var maxConcurrentStreams: UInt32 = 1000
        /// Per-stream and connection receive window.
        public var initialWindowSize: UInt32 = 1 << 20
        /// Buffered response bytes of one stream above which `send` waits.
        public var responseBufferHighWaterMark = 1 << 20
        /// Adds the handlers that sit between the socket and HTTP/2 on each
        /// new connection (a TLS handler); nil: cleartext. Runs on the
        /// connection's event loop.
        public var transport: (@Sendable (ChannelPipeline.SynchronousOperations) throws -> Void)?
        /// Adds the handlers of an HTTP/1.x connection, for a client whose
        /// first bytes are not HTTP/2's preface; nil: such clients are told
        /// (505) that this port speaks HTTP/2 only. Runs on the connection's
        /// event loop; the handlers go at the end of the pipeline.
        public var http1: (@Sendable (any Channel) throws -> Void)?
        /// The most connections open at once: one more is closed as soon
        /// as it is accepted.
        public var maxConnections = 10_000
        /// A connection whose client has sent nothing by then (no preface,
        /// no request line, or a TLS handshake never finished) is closed.
        public var firstBytesTimeout: TimeAmount = .seconds(10)

        public init() {}
    }

    private let channel: any Channel
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    /// The port actually bound.
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>) {
        self.channel = channel
        self.connections = connections
    }

    /// Binds and starts serving `router` on `group`.
    public static func start(
        router: Router, configuration: Configuration, group: any EventLoopGroup
    ) async throws -> GRPCServer {
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                let admitted = connections.withLockedValue { open in
                    guard open.count < configuration.maxConnections else { return false }
                    open[id] = channel
                    return true
                }
                guard admitted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in
                    _ = connections.withLockedValue { $0.removeValue(forKey: id) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try configuration.transport?(channel.pipeline.syncOperations)
                    try channel.pipeline.syncOperations.addHandler(FirstBytesTimeout(after: configuration.firstBytesTimeout))
                    let grpc = { @Sendable (channel: any Channel) throws in
                        try channel.pipeline.syncOperations.addHandler(
                            GRPCConnectionHandler(router: router, configuration: configuration))
                    }
                    if let http1 = configuration.http1 {
                        try channel.pipeline.syncOperations.addHandler(ProtocolSniffer(http2: grpc, http1: http1))
                    } else {
                        try grpc(channel)
                    }
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        return GRPCServer(channel: channel, connections: connections)
    }

    /// Graceful shutdown: stop accepting, send GOAWAY on every connection, let
    /// unary calls finish, end streaming calls with UNAVAILABLE, and close each
    /// connection once its calls are done. Connections still open after
    /// `gracePeriod` are closed.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        try? await channel.close()
        let open = connections.withLockedValue { Array($0.values) }
        for connection in open {
            connection.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for connection in open { try? await connection.closeFuture.get() }
            }
            group.addTask {
                try? await Task.sleep(for: gracePeriod)
            }
            await group.next()
            group.cancelAll()
        }
        for connection in connections.withLockedValue({ Array($0.values) }) {
            try? await connection.close()
        }
    }
}
