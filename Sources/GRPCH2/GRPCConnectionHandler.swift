import CNGHTTP2
import NIOCore

/// One client connection: feeds the socket's bytes to an nghttp2 session,
/// turns its events into calls on the router's handlers, and writes the
/// session's output back, respecting the channel's writability.
final class GRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let router: Router
    private let configuration: GRPCServer.Configuration
    private var session: NGHTTP2Session!
    private var context: ChannelHandlerContext!
    private var executor: EventLoopTaskExecutor!
    private var streams = StreamTable()
    /// Open calls of each method the router limits per connection.
    private var limitedCalls: [String: Int] = [:]
    private var receivedBytes = false
    /// The client's address, for the calls' contexts.
    private var peer = ""
    private var draining = false
    private var flushScheduled = false
    private var flushing = false
    private var flushAgain = false
    /// Inside `channelRead`: `channelReadComplete` flushes, so nothing need be scheduled.
    private var closing = false

    init(router: Router, configuration: GRPCServer.Configuration) {
        self.router = router
        self.configuration = configuration
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.executor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
        peer = Self.describe(context.channel.remoteAddress)
        self.session = NGHTTP2Session(delegate: self, ignoringHeaders: Self.unreadHeaders)
        // Queued now, written after the client's preface is seen to be HTTP/2.
        session.submitSettings(
            maxConcurrentStreams: configuration.maxConcurrentStreams,
            initialWindowSize: configuration.initialWindowSize)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let firstRead = !receivedBytes
        receivedBytes = true
        do {
            try session.receive(bytes)
        } catch let error where error.isBadClientMagic && firstRead {
            refuseNonHTTP2Client(context: context, firstBytes: bytes)
        } catch {
            // nghttp2 has queued a GOAWAY saying why; send it, then close.
            flushOutput()
            close()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutput()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flushOutput() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let status = GRPCStatus(.cancelled, "the connection closed")
        for stream in streams.all {
            stream.abandon(status)
            releaseLimitedSlot(of: stream)
        }
        streams.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is GRPCServer.DrainEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        draining = true
        guard receivedBytes else {
            close()  // a client that never spoke has nothing in flight
            return
        }
        session.submitGoAway()
        for stream in streams.all where stream.handler?.isStreaming == true {
            stream.task?.cancel()
            finish(stream.id, response: nil, status: GRPCStatus(.unavailable, "the server is shutting down"))
        }
        flushOutput()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close()
    }

    /// A client that did not start with the HTTP/2 preface: an HTTP/1.x
    /// client gets a plain answer saying what this port speaks; either way
    /// the connection closes and the server carries on.
    private func refuseNonHTTP2Client(context: ChannelHandlerContext, firstBytes: ByteBuffer) {
        let start = firstBytes.getString(at: firstBytes.readerIndex, length: min(firstBytes.readableBytes, 256)) ?? ""
        if start.contains(" HTTP/1.") {
            let body = "This port speaks gRPC over HTTP/2 only (h2c with prior knowledge).\n"
            let response = "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
            var buffer = context.channel.allocator.buffer(capacity: response.utf8.count)
            buffer.writeString(response)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
            closing = true
        } else {
            close()
        }
    }

    // MARK: Output

    /// Writes everything nghttp2 has ready while the channel stays writable,
    /// then closes the connection if it is done. Never called from inside an
    /// nghttp2 callback (nghttp2 is not re-entrant): those schedule a flush.
    private func flushOutput() {
        guard let context, !closing, receivedBytes else { return }
        // Flushing can make the channel writable again at once, and that
        // event calls back in here: note it and go round again, or the rest
        // of the output would wait for the next read.
        guard !flushing else {
            flushAgain = true
            return
        }
        flushing = true
        defer { flushing = false }
        repeat {
            flushAgain = false
            do {
                try session.writeOutput(to: context)
            } catch {
                close()
                return
            }
        } while flushAgain && !closing
        if !session.isAlive || (draining && streams.isEmpty && !session.hasOutput) { close() }
    }

    /// Flushes once the current loop tick's work is done, so that many calls
    /// finishing together share one write.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushScheduled = false
            handler.value.flushOutput()
        }
    }

    private func close() {
        guard !closing, let context else { return }
        closing = true
        // Writes complete in order: once this empty one has, a final GOAWAY
        // or trailers before it are out, and closing discards nothing.
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    // MARK: Calls: what handler tasks ask of their stream

    /// Queues response messages, in order, with one flush for them all. The
    /// future completes when the sender may send again: at once, or once the
    /// backlog drains.
    func send(_ messages: some Collection<[UInt8]>, on streamID: Int32) -> EventLoopFuture<Void> {
        let loop = context.eventLoop
        guard let stream = streams[streamID], !stream.isFinished else {
            return loop.makeFailedFuture(GRPCStatus(.cancelled, "the call is over"))
        }
        startResponse(stream)
        var mustWait = false
        for message in messages { mustWait = stream.response.append(message) }
        session.resumeData(streamID)
        scheduleFlush()
        guard mustWait else { return loop.makeSucceededVoidFuture() }
        let promise = loop.makePromise(of: Void.self)
        stream.response.wait(promise)
        return promise.futureResult
    }

    /// A handler took `byteCount` bytes of its request stream: the client
    /// may send as many more.
    func consumed(_ byteCount: Int, on streamID: Int32) {
        guard let stream = streams[streamID] else { return }
        stream.windowBytesQueued -= byteCount
        session.consumeStream(streamID, byteCount)
        letNextRequestIn(stream)
        scheduleFlush()
    }

    /// Ends a call with an optional last message and a status. Later calls for
    /// the same stream are ignored: the first ending wins.
    func finish(_ streamID: Int32, response: [UInt8]?, status: GRPCStatus) {
        guard let stream = streams[streamID], !stream.isFinished else { return }
        RPCMetrics.shared.record(path: stream.handler == nil ? nil : stream.path, status.code, since: stream.openedAt)
        stream.deadlineTimer?.cancel()
        stream.deadlineTimer = nil
        stream.requestContinuation?.finish()
        stream.requestContinuation = nil
        if stream.response.waiterCount > 0 {
            stream.response.resumeWaiters(failing: GRPCStatus(.cancelled, "the call ended: \(status)"))
        }
        if stream.responseState == .idle && response == nil {
            // Trailers-Only: the status travels in the only HEADERS frame.
            stream.responseState = .done
            session.submitResponse(streamID, headers: HeaderBlock(Self.responseHeaders + status.trailerFields), hasBody: false)
        } else {
            startResponse(stream)
            if let response { _ = stream.response.append(response) }
            stream.trailers = status == .ok ? Self.okTrailers : HeaderBlock(status.trailerFields)
            stream.responseState = .closing
            session.resumeData(streamID)
        }
        scheduleFlush()
    }

    /// Request headers that neither the call nor its metadata needs.
    /// (`grpc-encoding` matters only with the compressed flag, checked per message.)
    private static let unreadHeaders = [
        ":scheme", ":authority", "te", "grpc-encoding", "grpc-accept-encoding", "grpc-message-type",
    ]

    private static let responseHeaders: [(name: String, value: String)] = [
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-accept-encoding", "identity"),
    ]
    private static let responseHeaderBlock = HeaderBlock(responseHeaders)
    private static let okTrailers = HeaderBlock(GRPCStatus.ok.trailerFields)

    private func startResponse(_ stream: ServerStream) {
        guard stream.responseState == .idle else { return }
        stream.responseState = .streaming
        session.submitResponse(stream.id, headers: Self.responseHeaderBlock, hasBody: true)
    }

    /// Answers a request that never reached a handler, with an HTTP status
    /// other than 200 where the protocol asks for one.
    private func reject(_ stream: ServerStream, httpStatus: Int = 200, _ status: GRPCStatus) {
        guard stream.responseState == .idle else { return }
        stream.responseState = .done
        RPCMetrics.shared.record(path: stream.handler == nil ? nil : stream.path, status.code, since: stream.openedAt)
        var headers = Self.responseHeaders
        headers[0].value = String(httpStatus)
        session.submitResponse(stream.id, headers: HeaderBlock(headers + status.trailerFields), hasBody: false)
        scheduleFlush()
    }

    // MARK: Starting calls

    private func startCall(_ stream: ServerStream, requests: RequestStream.Arrivals?) {
        guard let handler = stream.handler else { return }
        let call = CallHandle(connection: NIOLoopBound(self, eventLoop: context.eventLoop), streamID: stream.id)
        let context = RPCContext(
            path: stream.path, metadata: stream.metadata, deadline: stream.deadline, peer: peer)
        let single = stream.singleRequest ?? []
        stream.singleRequest = nil
        if case .unaryCallback(let body) = handler {
            // No task: the handler answers through the responder, from
            // wherever its work ends.
            do {
                try body(single, context, UnaryResponder(call: call))
            } catch {
                finish(stream.id, response: nil, status: Self.status(for: error))
            }
            return
        }
        // The handler starts right here, on the loop, and runs until it first
        // suspends; a handler that answers without suspending costs no hop.
        // Later resumptions come back to this loop through `executor`.
        stream.task = Task.immediate(executorPreference: executor) {
            do {
                switch handler {
                case .unary(let body):
                    let response = try await body(single, context)
                    call.finish(response: response, status: .ok)
                case .unaryCallback:
                    preconditionFailure("answered without a task, above")
                case .serverStreaming(let body):
                    try await body(single, context, ResponseWriter(call: call))
                    call.finish(response: nil, status: .ok)
                case .bidirectionalStreaming(let body):
                    try await body(RequestStream(arrivals: requests!, call: call), context, ResponseWriter(call: call))
                    call.finish(response: nil, status: .ok)
                }
            } catch {
                call.finish(response: nil, status: GRPCConnectionHandler.status(for: error))
            }
        }
    }

    /// `HOST:PORT`, IPv6 hosts in brackets; a Unix socket's path.
    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "" }
        switch address {
        case .v4: return "\(address.ipAddress ?? ""):\(address.port ?? 0)"
        case .v6: return "[\(address.ipAddress ?? "")]:\(address.port ?? 0)"
        case .unixDomainSocket: return address.pathname ?? "unix"
        }
    }

    /// The status a handler's error ends its call with.
    static func status(for error: any Error) -> GRPCStatus {
        switch error {
        case let status as GRPCStatus: status
        case is CancellationError: GRPCStatus(.cancelled, "the call was cancelled")
        default: GRPCStatus(.unknown, "\(error)")
        }
    }

    private func failCall(_ stream: ServerStream, _ status: GRPCStatus) {
        stream.task?.cancel()
        stream.requestContinuation?.finish(throwing: status)
        stream.requestContinuation = nil
        finish(stream.id, response: nil, status: status)
    }
}

// MARK: nghttp2 events

extension GRPCConnectionHandler: NGHTTP2SessionDelegate {
    func streamOpened(_ streamID: Int32) {
        streams.insert(ServerStream(
            id: streamID, maxMessageSize: configuration.maxReceiveMessageSize,
            responseHighWaterMark: configuration.responseBufferHighWaterMark, allocator: context.channel.allocator))
    }

    func stream(_ streamID: Int32, receivedHeader name: String, value: String) {
        guard let stream = streams[streamID], stream.requestState == .receivingHeaders else { return }
        switch name {
        case ":method": stream.method = value
        case ":path": stream.path = value
        case "content-type": stream.contentType = value
        case "grpc-timeout": stream.timeout = value
        default:
            guard stream.headerError == nil else { return }
            do {
                try stream.metadata.add(wireName: name, wireValue: value)
            } catch {
                stream.headerError = error
            }
        }
    }

    func streamReceivedHeaders(_ streamID: Int32, endStream: Bool) {
        guard let stream = streams[streamID] else { return }
        stream.requestState = .open
        guard stream.method == "POST" else {
            reject(stream, httpStatus: 405, GRPCStatus(.unimplemented, "gRPC calls use POST, not \(stream.method)"))
            return
        }
        guard stream.contentType.hasPrefix("application/grpc") else {
            reject(stream, httpStatus: 415, GRPCStatus(
                .unimplemented, "content-type \"\(stream.contentType)\" is not gRPC (application/grpc)"))
            return
        }
        if let error = stream.headerError {
            reject(stream, error)
            return
        }
        guard let handler = router.handler(for: stream.path) else {
            reject(stream, GRPCStatus(.unimplemented, "unknown method \(stream.path)"))
            return
        }
        if let limit = router.callLimit(for: stream.path) {
            guard limitedCalls[stream.path, default: 0] < limit.perConnection else {
                reject(stream, GRPCStatus(.resourceExhausted, "this connection already has \(limit.perConnection) calls of "
                                          + "\(stream.path) open, the most it may; end one, or open another connection"))
                return
            }
            guard limit.acquire() else {
                reject(stream, GRPCStatus(.resourceExhausted, "the server already has \(limit.total) calls of \(stream.path) "
                                          + "open, the most it takes; try again later"))
                return
            }
            limitedCalls[stream.path, default: 0] += 1
            stream.limit = limit
        }
        if let description = stream.timeout {
            guard let timeout = GRPCTimeout.parse(description) else {
                reject(stream, GRPCStatus(.invalidArgument, "malformed grpc-timeout \"\(description)\": "
                                          + "1 to 8 digits and a unit, H, M, S, m, u or n (e.g. 500m)"))
                return
            }
            stream.deadline = ContinuousClock.now.advanced(by: timeout)
            let delay = GRPCTimeout.timerDelay(timeout)
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            stream.deadlineTimer = context.eventLoop.scheduleTask(in: delay) {
                guard let stream = handler.value.streams[streamID] else { return }
                stream.deadlineTimer = nil
                handler.value.failCall(
                    stream, GRPCStatus(.deadlineExceeded, "the call's deadline (grpc-timeout \(description)) passed"))
            }
        }
        stream.handler = handler
        if !handler.takesSingleRequest {
            let (requests, continuation) = RequestStream.Arrivals.makeStream()
            stream.requestContinuation = continuation
            startCall(stream, requests: requests)
        }
        if endStream { streamRemoteEnded(streamID) }
    }

    func stream(_ streamID: Int32, receivedData data: [UInt8]) {
        // The connection's window opens at once, so that one call's unread
        // requests never hold up the others' (nghttp2 sends WINDOW_UPDATE
        // once half a window is consumed).
        session.consumeConnection(data.count)
        guard let stream = streams[streamID], stream.handler != nil, !stream.isFinished else {
            session.consumeStream(streamID, data.count)
            return
        }
        // A unary or server-streaming call's one message, within the size
        // limit, is taken at once; a request stream's window opens as its
        // handler takes the messages (`consumed`).
        let continuation = stream.requestContinuation
        if continuation == nil { session.consumeStream(streamID, data.count) }
        stream.deframer.append(data)
        do throws(GRPCStatus) {
            while let message = try stream.deframer.next() {
                if let continuation {
                    let windowBytes = MessageFraming.headerSize + message.count - stream.consumedOfPartialMessage
                    stream.consumedOfPartialMessage = 0
                    stream.windowBytesQueued += windowBytes
                    continuation.yield((message, windowBytes))
                } else if stream.singleRequest == nil {
                    stream.singleRequest = message
                } else {
                    throw GRPCStatus(.invalidArgument, "\(stream.path) takes one request message, got more")
                }
            }
            if continuation != nil { letNextRequestIn(stream) }
        } catch {
            failCall(stream, error)
        }
    }

    /// Once the handler has taken every message, the one still arriving is
    /// the one it waits for: its bytes are consumed as they come, so that a
    /// message larger than the window still gets in.
    private func letNextRequestIn(_ stream: ServerStream) {
        guard stream.windowBytesQueued == 0 else { return }
        let unconsumed = stream.deframer.partialByteCount - stream.consumedOfPartialMessage
        guard unconsumed > 0 else { return }
        session.consumeStream(stream.id, unconsumed)
        stream.consumedOfPartialMessage += unconsumed
    }

    func streamRemoteEnded(_ streamID: Int32) {
        guard let stream = streams[streamID] else { return }
        stream.requestState = .remoteEnded
        guard stream.handler != nil, !stream.isFinished else { return }
        if stream.deframer.hasPartialMessage {
            failCall(stream, GRPCStatus(.internal, "the request ended in the middle of a message"))
        } else if let continuation = stream.requestContinuation {
            continuation.finish()
            stream.requestContinuation = nil
        } else if stream.singleRequest == nil {
            failCall(stream, GRPCStatus(.invalidArgument, "\(stream.path) takes one request message, got none"))
        } else {
            startCall(stream, requests: nil)
        }
    }

    func streamSentEnd(_ streamID: Int32) {
        // Our response is complete while the client may still be sending:
        // tell it to stop (RST_STREAM NO_ERROR, as gRPC servers do).
        if let stream = streams[streamID], stream.requestState != .remoteEnded {
            session.submitReset(streamID, errorCode: UInt32(NGHTTP2_NO_ERROR.rawValue))
        }
    }

    func streamClosed(_ streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.remove(streamID) else { return }
        releaseLimitedSlot(of: stream)
        if stream.responseState != .done {
            // Reset by the client (or the connection failed) before we finished.
            stream.responseState = .done
            stream.abandon(GRPCStatus(.cancelled, "the client cancelled the call"))
        }
        if draining && streams.isEmpty { scheduleFlush() }
    }

    private func releaseLimitedSlot(of stream: ServerStream) {
        guard let limit = stream.limit else { return }
        stream.limit = nil
        limit.release()
        limitedCalls[stream.path, default: 1] -= 1
    }

    func outboundData(for streamID: Int32, maxLength: Int) -> NGHTTP2Session.OutboundChunk {
        guard let stream = streams[streamID] else { return .init(bytes: nil, then: .end) }
        let bytes = stream.response.take(maxLength: maxLength)
        if stream.responseState == .closing && stream.response.isEmpty {
            stream.responseState = .done
            return .init(bytes: bytes, then: .trailers(stream.trailers ?? Self.okTrailers))
        }
        return .init(bytes: bytes, then: .more)
    }
}
