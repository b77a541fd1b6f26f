import CNGHTTP2
import NIOCore

/// The client side of one connection: starts the calls written to the
/// pipeline as HTTP/2 streams of a client nghttp2 session, feeds the server's
/// bytes to it, and hands each call its response messages and status.
/// Confined to the connection's event loop.
final class GRPCClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ClientCommand
    typealias OutboundOut = ByteBuffer

    /// Largest response message accepted.
    static let maxResponseSize = 64 * 1024 * 1024

    /// One call's stream: the request body still to send, and what came back.
    private final class Stream {
        let call: ClientCall
        var body: ByteBuffer
        var headers: [String: String] = [:]
        var deframer = MessageDeframer(maxMessageSize: GRPCClientConnectionHandler.maxResponseSize)
        var failure: GRPCStatus?
        /// No request message follows what is in `body`.
        var requestEnded: Bool

        init(call: ClientCall, body: ByteBuffer, requestEnded: Bool) {
            self.call = call
            self.body = body
            self.requestEnded = requestEnded
        }
    }

    private let authority: String
    private let scheme: String
    private var session: NGHTTP2Session!
    private var context: ChannelHandlerContext!
    private var streams: [Int32: Stream] = [:]
    private var flushing = false
    /// Why the connection is over, once it is.
    private var ended: GRPCStatus?

    init(authority: String, scheme: String = "http") {
        self.authority = authority
        self.scheme = scheme
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        session = NGHTTP2Session(.client, delegate: self)
        session.submitSettings(maxConcurrentStreams: 100, initialWindowSize: 1 << 20)
    }

    func channelActive(context: ChannelHandlerContext) {
        flushOutput()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try session.receive(unwrapInboundIn(data))
        } catch {
            fail(everyCallWith: GRPCStatus(.unavailable, "the server broke the HTTP/2 protocol: \(error)"))
            context.close(promise: nil)
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
        fail(everyCallWith: GRPCStatus(.unavailable, "the connection to the server closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(everyCallWith: GRPCStatus(.unavailable, "the connection failed: \(error)"))
        context.close(promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .start(let call): start(call)
        case .cancel(let call):
            if let id = streamID(of: call) { session.submitReset(id, errorCode: NGHTTP2_CANCEL.rawValue) }
        case .send(let call, let message):
            guard let id = streamID(of: call), let stream = streams[id], !stream.requestEnded else { break }
            // What was sent is dropped now and then, or a long stream's buffer would only grow.
            if stream.body.readerIndex > 1 << 16 { stream.body.discardReadBytes() }
            MessageFraming.frame(message, into: &stream.body)
            session.resumeData(id)
        case .halfClose(let call):
            guard let id = streamID(of: call), let stream = streams[id] else { break }
            stream.requestEnded = true
            session.resumeData(id)
        }
        promise?.succeed()
    }

    func flush(context: ChannelHandlerContext) {
        flushOutput()
    }

    private func streamID(of call: ClientCall) -> Int32? {
        streams.first(where: { $0.value.call === call })?.key
    }

    private func start(_ call: ClientCall) {
        if let ended { return call.continuation.finish(throwing: ended) }
        var fields: [(name: String, value: String)] = [
            (":method", "POST"), (":scheme", scheme), (":path", call.path), (":authority", authority),
            ("content-type", "application/grpc"), ("te", "trailers"), ("user-agent", "grpc-swift-spool/GRPCH2"),
        ]
        if let timeout = call.timeout {
            // At most 8 digits: milliseconds while they fit, else seconds, else the most there is.
            let (seconds, attoseconds) = timeout.components
            let header = switch seconds {
            case ..<0: "1m"  // already past: the least there is
            case ..<100_000: "\(max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))m"
            case ..<100_000_000: "\(seconds)S"
            default: "99999999S"
            }
            fields.append(("grpc-timeout", header))
        }
        fields += call.metadata.map { (name: $0.name.lowercased(), value: $0.value) }
        var body = context.channel.allocator.buffer(capacity: MessageFraming.headerSize + (call.request?.count ?? 0))
        if let request = call.request { MessageFraming.frame(request, into: &body) }
        guard let id = session.submitRequest(headers: HeaderBlock(fields)) else {
            call.continuation.finish(throwing: GRPCStatus(.unavailable, "the server takes no more calls on this connection"))
            return
        }
        streams[id] = Stream(call: call, body: body, requestEnded: call.request != nil)
    }

    /// Writes everything nghttp2 has ready while the channel is writable.
    private func flushOutput() {
        guard let context, context.channel.isActive, !flushing else { return }
        flushing = true
        defer { flushing = false }
        do {
            try session.writeOutput(to: context)
        } catch {
            fail(everyCallWith: GRPCStatus(.internal, "HTTP/2 failed: \(error)"))
            context.close(promise: nil)
        }
    }

    /// Ends every call with `status`; so are calls started later (the
    /// connection is over: a write still reaches this handler, and would
    /// otherwise wait forever for an answer).
    private func fail(everyCallWith status: GRPCStatus) {
        ended = ended ?? status
        for stream in streams.values { stream.call.continuation.finish(throwing: status) }
        streams.removeAll()
    }

    /// The call's status from its trailers (or Trailers-Only headers); without
    /// `grpc-status`, from the HTTP status or the reset, as gRPC specifies.
    private static func status(of stream: Stream, errorCode: UInt32) -> GRPCStatus {
        if let failure = stream.failure { return failure }
        if let code = stream.headers["grpc-status"].flatMap(Int.init) {
            let message = GRPCStatus.percentDecoded(stream.headers["grpc-message"] ?? "")
            return GRPCStatus(GRPCStatus.Code(rawValue: code) ?? .unknown, message)
        }
        if errorCode != 0 {
            switch errorCode {
            case NGHTTP2_REFUSED_STREAM.rawValue: return GRPCStatus(.unavailable, "the server refused the call")
            case NGHTTP2_CANCEL.rawValue: return GRPCStatus(.cancelled, "the call was cancelled")
            default: return GRPCStatus(.internal, "the call was reset (HTTP/2 error \(errorCode))")
            }
        }
        let http = stream.headers[":status"] ?? "none"
        let code: GRPCStatus.Code = switch http {
        case "400": .internal
        case "401": .unauthenticated
        case "403": .permissionDenied
        case "404": .unimplemented
        case "429", "502", "503", "504": .unavailable
        default: .unknown
        }
        return GRPCStatus(code, "the server answered HTTP status \(http) without a gRPC status")
    }
}

extension GRPCClientConnectionHandler: NGHTTP2SessionDelegate {
    func streamOpened(_ streamID: Int32) {}
    func streamReceivedHeaders(_ streamID: Int32, endStream: Bool) {}
    func streamRemoteEnded(_ streamID: Int32) {}
    func streamSentEnd(_ streamID: Int32) {}

    func stream(_ streamID: Int32, receivedHeader name: String, value: String) {
        streams[streamID]?.headers[name] = value
    }

    func stream(_ streamID: Int32, receivedData data: [UInt8]) {
        guard let stream = streams[streamID], stream.failure == nil else { return }
        stream.deframer.append(data)
        do {
            while let message = try stream.deframer.next() { stream.call.continuation.yield(message) }
        } catch {
            stream.failure = GRPCStatus(.internal, "the server sent a malformed response: \(error.message)")
            session.submitReset(streamID, errorCode: NGHTTP2_PROTOCOL_ERROR.rawValue)
        }
    }

    func streamClosed(_ streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        let status = Self.status(of: stream, errorCode: errorCode)
        if status.code == .ok {
            stream.call.continuation.finish()
        } else {
            stream.call.continuation.finish(throwing: status)
        }
    }

    func outboundData(for streamID: Int32, maxLength: Int) -> NGHTTP2Session.OutboundChunk {
        guard let stream = streams[streamID] else { return .init(bytes: nil, then: .end) }
        let count = min(maxLength, stream.body.readableBytes)
        let bytes = stream.body.readSlice(length: count)
        return .init(bytes: bytes, then: stream.body.readableBytes == 0 && stream.requestEnded ? .end : .more)
    }
}
