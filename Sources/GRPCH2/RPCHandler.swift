/// How a method is served, on raw message bytes. `Router` builds these from
/// typed closures; the connection runs them as tasks on its event loop.
public enum RPCHandler: Sendable {
    /// One request, one response.
    case unary(@Sendable (_ request: [UInt8], _ context: RPCContext) async throws -> [UInt8])
    /// One request, any number of responses.
    case serverStreaming(@Sendable (_ request: [UInt8], _ context: RPCContext, _ writer: ResponseWriter) async throws -> Void)
    /// Messages both ways, as they come.
    case bidirectionalStreaming(@Sendable (_ requests: RequestStream, _ context: RPCContext, _ writer: ResponseWriter) async throws -> Void)

    var takesSingleRequest: Bool {
        if case .bidirectionalStreaming = self { return false }
        return true
    }

    /// Streaming calls are ended (UNAVAILABLE) when the server drains;
    /// unary calls are let finish.
    var isStreaming: Bool {
        if case .unary = self { return false }
        return true
    }
}

/// The request messages of a streaming call, in order. Ends when the client
/// half-closes; throws if the call is cancelled or a frame is malformed.
public typealias RequestStream = AsyncThrowingStream<[UInt8], any Error>
