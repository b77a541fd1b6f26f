/// How a method is served, on raw message bytes. `Router` builds these from
/// typed closures; the connection runs them as tasks on its event loop.
public enum RPCHandler: Sendable {
    /// One request, one response.
    case unary(@Sendable (_ request: [UInt8], _ context: RPCContext) async throws -> [UInt8])
    /// One request, one response given through `responder`, from any thread:
    /// no task runs for the call. For a handler that hands its work to
    /// another thread and is called back when it is done. An error it throws
    /// ends the call at once.
    case unaryCallback(@Sendable (_ request: [UInt8], _ context: RPCContext, _ responder: UnaryResponder) throws -> Void)
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
        switch self {
        case .unary, .unaryCallback: false
        case .serverStreaming, .bidirectionalStreaming: true
        }
    }
}

/// The request messages of a streaming call, in order. Ends when the client
/// half-closes; throws if the call is cancelled or a frame is malformed.
///
/// Taking a message opens the call's HTTP/2 flow-control window by its
/// bytes, so a client gets at most a window (plus one message still
/// arriving) ahead of the handler: a handler that stops reading stops its
/// client, instead of the server buffering without bound.
public struct RequestStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    /// Each message with the bytes of the stream's window it keeps closed
    /// until it is taken.
    typealias Arrivals = AsyncThrowingStream<(message: [UInt8], windowBytes: Int), any Error>

    let arrivals: Arrivals
    let call: CallHandle

    public struct AsyncIterator: AsyncIteratorProtocol {
        var arrivals: Arrivals.AsyncIterator
        let call: CallHandle

        public mutating func next() async throws -> [UInt8]? {
            guard let arrival = try await arrivals.next() else { return nil }
            if arrival.windowBytes > 0 { call.consumed(arrival.windowBytes) }
            return arrival.message
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(arrivals: arrivals.makeAsyncIterator(), call: call)
    }
}
