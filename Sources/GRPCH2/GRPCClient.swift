import NIOCore
import NIOPosix

/// A gRPC client over cleartext HTTP/2 (h2c with prior knowledge): one
/// connection, any number of concurrent calls on it. Messages are bytes, as on
/// the server side; typed wrappers live above the transport.
public final class GRPCClient: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    /// Connects to `host:port`: in cleartext, or through what `transport`
    /// puts between the socket and HTTP/2 (a TLS handler; then say `secure`,
    /// for the `:scheme`).
    public static func connect(
        host: String, port: Int, group: any EventLoopGroup, secure: Bool = false,
        transport: (@Sendable (ChannelPipeline.SynchronousOperations) throws -> Void)? = nil
    ) async throws -> GRPCClient {
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try transport?(channel.pipeline.syncOperations)
                    try channel.pipeline.syncOperations.addHandler(
                        GRPCClientConnectionHandler(authority: authority, scheme: secure ? "https" : "http"))
                }
            }
            .connect(host: host, port: port)
            .get()
        return GRPCClient(channel: channel)
    }

    /// Starts a call that sends one request message; its response messages
    /// arrive in order. The sequence ends when the call ends OK and throws its
    /// `GRPCStatus` otherwise. Ending the iteration early cancels the call
    /// (RST_STREAM CANCEL).
    public func call(
        _ path: String, request: [UInt8], metadata: [(name: String, value: String)] = [], timeout: Duration? = nil
    ) -> AsyncThrowingStream<[UInt8], any Error> {
        let (responses, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let call = ClientCall(path: path, request: request, metadata: metadata, timeout: timeout,
                              continuation: continuation)
        let channel = self.channel
        continuation.onTermination = { termination in
            if case .cancelled = termination { channel.writeAndFlush(ClientCommand.cancel(call), promise: nil) }
        }
        channel.writeAndFlush(ClientCommand.start(call)).whenFailure { error in
            continuation.finish(throwing: GRPCStatus(.unavailable, "cannot send the call: \(error)"))
        }
        return responses
    }

    /// Starts a call whose request messages are sent as they come
    /// (`RequestSender.send`) until `RequestSender.finish` half-closes it;
    /// response messages arrive in order, as from `call`. Ending the
    /// iteration early cancels the call.
    public func streamingCall(
        _ path: String, metadata: [(name: String, value: String)] = [], timeout: Duration? = nil
    ) -> (requests: RequestSender, responses: AsyncThrowingStream<[UInt8], any Error>) {
        let (responses, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let call = ClientCall(path: path, request: nil, metadata: metadata, timeout: timeout, continuation: continuation)
        let channel = self.channel
        continuation.onTermination = { termination in
            if case .cancelled = termination { channel.writeAndFlush(ClientCommand.cancel(call), promise: nil) }
        }
        channel.writeAndFlush(ClientCommand.start(call)).whenFailure { error in
            continuation.finish(throwing: GRPCStatus(.unavailable, "cannot send the call: \(error)"))
        }
        return (RequestSender(channel: channel, call: call), responses)
    }

    /// A unary call: exactly one response message, or the call's status as the error.
    public func unary(
        _ path: String, request: [UInt8], metadata: [(name: String, value: String)] = [], timeout: Duration? = nil
    ) async throws -> [UInt8] {
        var response: [UInt8]?
        for try await message in call(path, request: request, metadata: metadata, timeout: timeout) {
            guard response == nil else { throw GRPCStatus(.internal, "\(path) answered more than one message") }
            response = message
        }
        guard let response else { throw GRPCStatus(.internal, "\(path) answered OK without a message") }
        return response
    }

    /// Whether the connection is still open.
    public var isConnected: Bool { channel.isActive }

    /// Closes the connection; calls still open end UNAVAILABLE.
    public func close() async {
        try? await channel.close()
    }
}

/// The request side of a `GRPCClient.streamingCall`.
public struct RequestSender: Sendable {
    let channel: any Channel
    let call: ClientCall

    /// Queues one request message. Messages are sent in order, as HTTP/2
    /// flow control lets them; what waits is held by the connection.
    public func send(_ message: [UInt8]) {
        channel.writeAndFlush(ClientCommand.send(call, message), promise: nil)
    }

    /// Ends the request stream once what was sent before has gone.
    public func finish() {
        channel.writeAndFlush(ClientCommand.halfClose(call), promise: nil)
    }
}

/// One call, as the API hands it to the connection's event loop.
final class ClientCall: Sendable {
    let path: String
    /// The one request message; nil for a request stream (`RequestSender`).
    let request: [UInt8]?
    let metadata: [(name: String, value: String)]
    let timeout: Duration?
    let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation

    init(path: String, request: [UInt8]?, metadata: [(name: String, value: String)], timeout: Duration?,
         continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation) {
        self.path = path
        self.request = request
        self.metadata = metadata
        self.timeout = timeout
        self.continuation = continuation
    }
}

enum ClientCommand: Sendable {
    case start(ClientCall)
    case cancel(ClientCall)
    case send(ClientCall, [UInt8])
    case halfClose(ClientCall)
}
