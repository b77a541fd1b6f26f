@testable import GRPCH2
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// The first bytes of a connection pick gRPC (HTTP/2's preface) or HTTP/1.x.
@Suite struct ProtocolSnifferTests {
    /// Keeps what reaches the handlers an installer added.
    final class Received: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = NIOLockedValueBox<[UInt8]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            bytes.withLockedValue { $0 += buffer.readableBytesView }
        }
    }

    struct Setup {
        let channel = EmbeddedChannel()
        let http2 = Received()
        let http1 = Received()
        let chosen = NIOLockedValueBox<[String]>([])

        init(failing: Bool = false) throws {
            let (http2, http1, chosen) = (self.http2, self.http1, self.chosen)
            try channel.pipeline.syncOperations.addHandler(ProtocolSniffer(
                http2: { channel in
                    chosen.withLockedValue { $0.append("h2") }
                    try channel.pipeline.syncOperations.addHandler(http2)
                },
                http1: { channel in
                    chosen.withLockedValue { $0.append("http/1") }
                    if failing { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.addHandler(http1)
                }))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            #expect(channel.isActive)
        }

        func send(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
        }
    }

    @Test func theHTTP2PrefaceGoesToGRPCWithEveryByte() throws {
        let setup = try Setup()
        let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        try setup.send(preface)
        #expect(setup.chosen.withLockedValue { $0 } == ["h2"])
        #expect(setup.http2.bytes.withLockedValue { $0 } == Array(preface.utf8))
        #expect(throws: (any Error).self) { try setup.channel.pipeline.syncOperations.handler(type: ProtocolSniffer.self) }
    }

    @Test func anHTTP1RequestGoesToTheHTTP1Handlers() throws {
        let setup = try Setup()
        try setup.send("GET / HTTP/1.1\r\n")
        try setup.send("Host: x\r\n\r\n")
        #expect(setup.chosen.withLockedValue { $0 } == ["http/1"])
        #expect(setup.http1.bytes.withLockedValue { $0 } == Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
    }

    @Test func bytesArrivingOneByOneAreHeldUntilTheyTell() throws {
        let setup = try Setup()
        for byte in ["P", "R", "I"] {
            try setup.send(byte)
            #expect(setup.chosen.withLockedValue { $0 }.isEmpty)
        }
        try setup.send(" * HTTP/2.0")
        #expect(setup.chosen.withLockedValue { $0 } == ["h2"])
        #expect(setup.http2.bytes.withLockedValue { $0 } == Array("PRI * HTTP/2.0".utf8))
    }

    @Test func aMismatchDecidesAtOnce() throws {
        let setup = try Setup()
        try setup.send("PRX")
        #expect(setup.chosen.withLockedValue { $0 } == ["http/1"])
        #expect(setup.http1.bytes.withLockedValue { $0 } == Array("PRX".utf8))
    }

    @Test func drainingBeforeTheClientSpokeClosesTheConnection() throws {
        let setup = try Setup()
        try setup.send("PR")
        setup.channel.pipeline.fireUserInboundEventTriggered(GRPCServer.DrainEvent())
        #expect(!setup.channel.isActive)
    }

    @Test func anInstallerThatFailsClosesTheConnection() throws {
        let setup = try Setup(failing: true)
        try setup.send("GET /")
        #expect(!setup.channel.isActive)
    }

    @Test(arguments: [("", nil), ("P", nil), ("PRI", nil), ("PRI ", true), ("PRI * HTTP/2.0", true), ("G", false),
                      ("PRIX", false), ("\u{0}", false)] as [(String, Bool?)])
    func fourBytesTell(_ text: String, _ expected: Bool?) {
        #expect(ProtocolSniffer.isHTTP2(ByteBuffer(string: text).readableBytesView) == expected)
    }
}
