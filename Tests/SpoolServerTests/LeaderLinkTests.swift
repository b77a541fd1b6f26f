import GRPCH2
import NIOPosix
@testable import SpoolServer
import Synchronization
import Testing

/// A follower's forwarding (`LeaderLink`) against a GRPCH2 server standing in
/// for the leader, in process.
@Suite(.timeLimit(.minutes(1)))
struct LeaderLinkTests {
    /// A server on a free loopback port; `release` ends its held calls.
    private static func leader(release: Gate) async throws -> (GRPCServer, MultiThreadedEventLoopGroup) {
        var router = Router()
        router.register("/test.Leader/Echo", .unary { request, context in
            Array("\(context.metadata["authorization"] ?? "-") \(context.deadline != nil) ".utf8) + request
        })
        router.register("/test.Leader/Hold", .serverStreaming { _, _, writer in
            try await writer.send([1])
            await release.wait()
        })
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = GRPCServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        return (try await GRPCServer.start(router: router, configuration: configuration, group: group), group)
    }

    final class Gate: Sendable {
        private let waiters = Mutex<(open: Bool, list: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { continuation in
                let open = waiters.withLock { state in
                    if !state.open { state.list.append(continuation) }
                    return state.open
                }
                if open { continuation.resume() }
            }
        }

        func open() {
            waiters.withLock { state in
                state.open = true
                defer { state.list = [] }
                return state.list
            }.forEach { $0.resume() }
        }
    }

    @Test func callsGoThroughWithTheirMetadataAndSpreadOverConnectionsAtSixtyFourEach() async throws {
        let release = Gate()
        let (leader, group) = try await Self.leader(release: release)
        let link = LeaderLink(group: group)
        await #expect(throws: GRPCStatus.self) { _ = try await link.openCall() }  // no leader known yet
        #expect(await link.isReachable() == false)
        link.setLeader("127.0.0.1:\(leader.port)")
        #expect(await link.isReachable())

        // The follower: every path forwarded.
        var router = Router()
        router.fallback = link.forwarder
        var configuration = GRPCServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let follower = try await GRPCServer.start(router: router, configuration: configuration, group: group)
        let client = try await GRPCClient.connect(host: "127.0.0.1", port: follower.port, group: group)
        let answer = try await client.unary("/test.Leader/Echo", request: Array("hi".utf8),
                                            metadata: [("authorization", "Bearer t")], timeout: .seconds(5))
        #expect(String(decoding: answer, as: UTF8.self) == "Bearer t true hi")
        await #expect(throws: GRPCStatus.self) { _ = try await client.unary("/test.Leader/Nope", request: []) }

        // 65 held streams: the 65th opens a second connection to the leader.
        var held: [AsyncThrowingStream<[UInt8], any Error>.AsyncIterator] = []
        for _ in 0..<65 {
            var responses = client.call("/test.Leader/Hold", request: []).makeAsyncIterator()
            #expect(try await responses.next() == [1])
            held.append(responses)
        }
        #expect(link.openCalls.sorted() == [1, 64])
        release.open()
        for index in held.indices { #expect(try await held[index].next() == nil) }
        #expect(link.openCalls == [0, 0])

        // A new leader: the old connections go.
        link.setLeader(nil)
        #expect(link.openCalls.isEmpty)
        await client.close()
        await follower.shutdown(gracePeriod: .seconds(1))
        await leader.shutdown(gracePeriod: .seconds(1))
        try await group.shutdownGracefully()
    }
}
