@testable import GRPCH2
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

/// What a client that connects and says nothing, or connects too often, can hold.
@Suite(.timeLimit(.minutes(1)))
struct ConnectionLimitTests {
    private func connected(_ timeout: TimeAmount) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FirstBytesTimeout(after: timeout))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test func aSilentConnectionIsClosedAtTheTimeout() throws {
        let channel = try connected(.seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aClientThatSpeaksKeepsItsConnectionAndItsBytes() throws {
        let channel = try connected(.seconds(10))
        try channel.writeInbound(ByteBuffer(string: "PRI "))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "PRI "))
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: FirstBytesTimeout.self) }
        _ = try channel.finish()
    }

    @Test func aConnectionPastTheLimitIsClosedAtOnce() async throws {
        let server = try await TestServer.start(Router()) { $0.maxConnections = 2 }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        func connect() async throws -> any Channel {
            try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: server.server.port).get()
        }
        let first = try await connect(), second = try await connect()
        let third = try await connect()
        // Closed by the server without a byte either way; the two before it stay open.
        try await third.closeFuture.get()
        #expect(first.isActive && second.isActive)
        try await first.close()
        try await second.close()
        try await server.stop()
        try await group.shutdownGracefully()
    }
}
