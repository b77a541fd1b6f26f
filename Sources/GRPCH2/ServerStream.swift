import NIOCore

/// One call on a connection: its request as it arrives and its response as it
/// leaves. Owned by `GRPCConnectionHandler` and touched only on its event loop.
final class ServerStream {
    /// The client's side of the HTTP/2 stream.
    enum RequestState {
        case receivingHeaders
        case open           // headers done, body may follow
        case remoteEnded    // the client half-closed
    }

    /// Our side.
    enum ResponseState {
        case idle           // nothing submitted yet
        case streaming      // headers submitted; messages go through `response`
        case closing        // the status is decided; trailers follow `response`
        case done           // the final frame is submitted
    }

    let id: Int32
    var requestState = RequestState.receivingHeaders
    var responseState = ResponseState.idle

    // The request as its headers arrive.
    var method = ""
    var path = ""
    var contentType = ""
    /// The `grpc-timeout` header as sent; nil when there was none.
    var timeout: String?
    /// The limit of open calls it counts in, if its method has one (`Router.limitOpenCalls`).
    var limit: CallLimit?
    var metadata = Metadata()
    var headerError: GRPCStatus?

    var handler: RPCHandler?
    var deframer: MessageDeframer
    /// Messages of a unary or server-streaming call, until the client half-closes.
    var singleRequest: [UInt8]?
    var requestContinuation: RequestStream.Arrivals.Continuation?
    /// Flow control of a request stream: the window bytes of messages
    /// yielded to the handler and not taken yet, and how much of the
    /// message still arriving is consumed.
    var windowBytesQueued = 0
    var consumedOfPartialMessage = 0
    var task: Task<Void, Never>?
    var deadlineTimer: Scheduled<Void>?
    var deadline: ContinuousClock.Instant?

    var response: ResponseBuffer
    /// Sent once `response` is drained, in `.closing`.
    var trailers: HeaderBlock?
    /// When the stream opened, for the call's duration (`RPCMetrics`).
    let openedAt = ContinuousClock.now

    init(id: Int32, maxMessageSize: Int, responseHighWaterMark: Int, allocator: ByteBufferAllocator) {
        self.id = id
        self.deframer = MessageDeframer(maxMessageSize: maxMessageSize)
        self.response = ResponseBuffer(highWaterMark: responseHighWaterMark, allocator: allocator)
    }

    var isFinished: Bool { responseState == .closing || responseState == .done }

    /// The call is over before its handler finished: stop whatever waits on it.
    func abandon(_ status: GRPCStatus) {
        task?.cancel()
        deadlineTimer?.cancel()
        deadlineTimer = nil
        requestContinuation?.finish(throwing: status)
        requestContinuation = nil
        response.resumeWaiters(failing: status)
    }
}
