import NIOCore

/// The first handler of a connection on a port that serves both gRPC and
/// HTTP/1.x: it holds the first bytes until they tell which one the client
/// speaks, adds that protocol's handlers after itself, hands them the bytes
/// and leaves the pipeline.
///
/// Every HTTP/2 client (gRPC's included) starts with the preface
/// "PRI * HTTP/2.0…"; `PRI` is a method HTTP/1.x reserves for exactly this
/// (RFC 9113 §3.4), so four bytes decide.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias Installer = @Sendable (any Channel) throws -> Void

    private static let preface: [UInt8] = Array("PRI ".utf8)
    private let http2: Installer
    private let http1: Installer
    private var held: ByteBuffer?

    init(http2: @escaping Installer, http1: @escaping Installer) {
        self.http2 = http2
        self.http1 = http1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if held == nil {
            held = bytes
        } else {
            held!.writeBuffer(&bytes)
        }
        guard let protocolIsHTTP2 = Self.isHTTP2(held!.readableBytesView) else { return }  // too few bytes yet
        let first = held!
        held = nil
        do {
            try (protocolIsHTTP2 ? http2 : http1)(context.channel)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(first))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Whether `bytes` start HTTP/2's preface; nil while too few to tell.
    static func isHTTP2(_ bytes: ByteBufferView) -> Bool? {
        let seen = bytes.prefix(preface.count)
        guard seen.elementsEqual(preface.prefix(seen.count)) else { return false }
        return seen.count == preface.count ? true : nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A client that has not yet said what it speaks has nothing in flight.
        if event is GRPCServer.DrainEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
