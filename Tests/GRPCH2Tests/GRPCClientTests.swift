import Foundation
import GRPCH2
import NIOPosix
import Testing

/// GRPCClient against GRPCH2's own server (in process, so handlers can report
/// what reached them) and against a real grpcio server.
@Suite(.timeLimit(.minutes(2)))
struct GRPCClientTests {
    private static func connect(_ address: String) async throws -> (GRPCClient, MultiThreadedEventLoopGroup) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let parts = address.split(separator: ":")
        return (try await GRPCClient.connect(host: String(parts[0]), port: Int(parts[1])!, group: group), group)
    }

    @Test func aUnaryCallCarriesItsMetadataAndDeadlineAndGetsItsAnswer() async throws {
        var router = Router()
        router.register("/test.Calls/Echo", .unary { request, context in
            Array("\(context.metadata["x-user"] ?? "-") \(context.deadline != nil) ".utf8) + request
        })
        let server = try await TestServer.start(router)
        let (client, group) = try await Self.connect(server.address)
        let answer = try await client.unary("/test.Calls/Echo", request: Array("hi".utf8),
                                            metadata: [("x-user", "ada")], timeout: .seconds(5))
        #expect(String(decoding: answer, as: UTF8.self) == "ada true hi")
        await client.close()
        try await group.shutdownGracefully()
        try await server.stop()
    }

    @Test func manyLargeMessagesOnConcurrentCallsArriveWholeAndInOrder() async throws {
        var router = Router()
        router.register("/test.Calls/Flood", .serverStreaming { request, _, writer in
            for index in 0..<200 { try await writer.send([UInt8](repeating: UInt8(index % 256), count: 64 * 1024)) }
            _ = request
        })
        let server = try await TestServer.start(router)
        let (client, group) = try await Self.connect(server.address)
        try await withThrowingTaskGroup(of: Void.self) { calls in
            for _ in 0..<4 {
                calls.addTask {
                    var index = 0
                    for try await message in client.call("/test.Calls/Flood", request: []) {
                        #expect(message == [UInt8](repeating: UInt8(index % 256), count: 64 * 1024))
                        index += 1
                    }
                    #expect(index == 200)
                }
            }
            try await calls.waitForAll()
        }
        await client.close()
        try await group.shutdownGracefully()
        try await server.stop()
    }

    @Test func aStreamingCallSendsMessagesAsTheyComeAndHalfClosesLast() async throws {
        var router = Router()
        router.register("/test.Calls/Chat", .bidirectionalStreaming { requests, _, writer in
            var count = 0
            for try await message in requests {
                count += 1
                try await writer.send(message + [UInt8(count % 256)])
            }
            try await writer.send(Array("end after \(count)".utf8))
        })
        let server = try await TestServer.start(router)
        let (client, group) = try await Self.connect(server.address)
        let (requests, responses) = client.streamingCall("/test.Calls/Chat")
        var answers = responses.makeAsyncIterator()
        // Each answer comes before the next request is sent: a real conversation.
        for index in 0..<300 {
            let message = [UInt8](repeating: UInt8(index % 251), count: index * 97)
            requests.send(message)
            #expect(try await answers.next() == message + [UInt8((index + 1) % 256)])
        }
        requests.finish()
        #expect(try await answers.next() == Array("end after 300".utf8))
        #expect(try await answers.next() == nil)
        await client.close()
        try await group.shutdownGracefully()
        try await server.stop()
    }

    @Test func aFailedCallThrowsItsStatusWithTheMessageDecoded() async throws {
        var router = Router()
        router.register("/test.Calls/Refuse", .unary { _, _ in
            throw GRPCStatus(.notFound, "no job «42» here: 100% sure")
        })
        let server = try await TestServer.start(router)
        let (client, group) = try await Self.connect(server.address)
        await #expect(throws: GRPCStatus(.notFound, "no job «42» here: 100% sure")) {
            _ = try await client.unary("/test.Calls/Refuse", request: [])
        }
        await #expect(throws: GRPCStatus(.unimplemented, "unknown method /test.Calls/Missing")) {
            _ = try await client.unary("/test.Calls/Missing", request: [])
        }
        await client.close()
        try await group.shutdownGracefully()
        try await server.stop()
    }

    @Test func leavingAStreamEarlyCancelsTheServersHandler() async throws {
        let events = Events()
        var router = Router()
        router.register("/test.Calls/Hold", .serverStreaming { _, _, writer in
            try await writer.send([1])
            await Task.untilCancelled()
            events.record("cancelled")
        })
        let server = try await TestServer.start(router)
        let (client, group) = try await Self.connect(server.address)
        for try await message in client.call("/test.Calls/Hold", request: []) {
            #expect(message == [1])
            break
        }
        await events.wait(for: "cancelled")
        await client.close()
        try await group.shutdownGracefully()
        try await server.stop()
    }

    @Test func aMethodLimitedPerConnectionRefusesTheCallPastItsLimitUntilOneEnds() async throws {
        var router = Router()
        router.register("/test.Calls/Hold", .serverStreaming { _, _, writer in
            try await writer.send([1])
            await Task.untilCancelled()
        })
        router.limitOpenCalls(of: "/test.Calls/Hold", perConnection: 2, total: 3)
        let server = try await TestServer.start(router)
        let (client, group) = try await Self.connect(server.address)
        var open: [AsyncThrowingStream<[UInt8], any Error>.AsyncIterator] = []
        for _ in 0..<2 {
            var held = client.call("/test.Calls/Hold", request: []).makeAsyncIterator()
            #expect(try await held.next() == [1])
            open.append(held)
        }
        await #expect {
            for try await _ in client.call("/test.Calls/Hold", request: []) {}
        } throws: { error in
            (error as? GRPCStatus)?.code == .resourceExhausted
                && (error as? GRPCStatus)?.message.contains("already has 2 calls of /test.Calls/Hold open") == true
        }
        // Another connection has a limit of its own, within the server's.
        let (other, otherGroup) = try await Self.connect(server.address)
        var third = other.call("/test.Calls/Hold", request: []).makeAsyncIterator()
        #expect(try await third.next() == [1])
        await #expect {
            for try await _ in other.call("/test.Calls/Hold", request: []) {}
        } throws: { error in
            (error as? GRPCStatus)?.message.contains("the server already has 3 calls of /test.Calls/Hold open") == true
        }
        // A call that ends gives its place back.
        open.removeFirst()
        var again: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator?
        while again == nil {
            var next = client.call("/test.Calls/Hold", request: []).makeAsyncIterator()
            do {
                #expect(try await next.next() == [1])
                again = next
            } catch let status as GRPCStatus where status.code == .resourceExhausted {
                await Task.yield()  // the cancel of the first may not have reached the server yet
            }
        }
        await client.close()
        await other.close()
        try await group.shutdownGracefully()
        try await otherGroup.shutdownGracefully()
        try await server.stop()
    }

    /// nghttp cannot send a header without a value; this client sends metadata as it is given.
    @Test func anEmptyGrpcTimeoutIsMalformedNotNoDeadline() async throws {
        var router = Router()
        router.register("/test.Calls/Echo", .unary { request, _ in request })
        let server = try await TestServer.start(router)
        let (client, group) = try await Self.connect(server.address)
        await #expect(throws: GRPCStatus(.invalidArgument, "malformed grpc-timeout \"\": 1 to 8 digits and a unit, H, M, S, m, u or n (e.g. 500m)")) {
            _ = try await client.unary("/test.Calls/Echo", request: [1], metadata: [("grpc-timeout", "")])
        }
        await client.close()
        try await group.shutdownGracefully()
        try await server.stop()
    }

    @Test func callsOnAClosedConnectionEndUnavailable() async throws {
        let server = try await TestServer.start(Router())
        let (client, group) = try await Self.connect(server.address)
        try await server.stop()
        await #expect {
            _ = try await client.unary("/test.Calls/Any", request: [])
        } throws: { error in
            (error as? GRPCStatus)?.code == .unavailable
        }
        try await group.shutdownGracefully()
    }

    /// A peer that closes every connection at once (as a TLS server does on
    /// cleartext bytes): calls started after the close must end too, not
    /// wait forever for an answer.
    @Test func callsStartedAfterThePeerDroppedTheConnectionEndUnavailable() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in channel.close() }
            .bind(host: "127.0.0.1", port: 0).get()
        // Many connections, each with calls started while the close arrives.
        for _ in 0..<20 {
            let client = try await GRPCClient.connect(host: "127.0.0.1", port: listener.localAddress!.port!, group: group)
            try await withThrowingTaskGroup(of: Void.self) { calls in
                for _ in 0..<20 {
                    calls.addTask {
                        await #expect {
                            _ = try await client.unary("/test.Calls/Any", request: [])
                        } throws: { error in
                            (error as? GRPCStatus)?.code == .unavailable
                        }
                    }
                }
                try await calls.waitForAll()
            }
        }
        try await listener.close()
        try await group.shutdownGracefully()
    }

    @Test func itTalksToAGrpcioServer() async throws {
        let server = try PythonServer.start("""
            import grpc, sys
            from concurrent import futures
            def echo(request, context):
                return b"grpcio " + request + dict(context.invocation_metadata()).get("x-user", "-").encode()
            def refuse(request, context):
                context.abort(grpc.StatusCode.PERMISSION_DENIED, "not for you: é")
            def count(request, context):
                for i in range(int(request)):
                    yield str(i).encode()
            handler = grpc.method_handlers_generic_handler("test.Py", {
                "Echo": grpc.unary_unary_rpc_method_handler(echo),
                "Refuse": grpc.unary_unary_rpc_method_handler(refuse),
                "Count": grpc.unary_stream_rpc_method_handler(count),
            })
            server = grpc.server(futures.ThreadPoolExecutor(4))
            server.add_generic_rpc_handlers((handler,))
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            print(port, flush=True)
            sys.stdin.read()
            server.stop(0)
            """)
        defer { server.stop() }
        let (client, group) = try await Self.connect("127.0.0.1:\(server.port)")
        let answer = try await client.unary("/test.Py/Echo", request: Array("hi ".utf8), metadata: [("x-user", "ada")])
        #expect(String(decoding: answer, as: UTF8.self) == "grpcio hi ada")
        await #expect(throws: GRPCStatus(.permissionDenied, "not for you: é")) {
            _ = try await client.unary("/test.Py/Refuse", request: [])
        }
        var counted: [String] = []
        for try await message in client.call("/test.Py/Count", request: Array("5".utf8)) {
            counted.append(String(decoding: message, as: UTF8.self))
        }
        #expect(counted == ["0", "1", "2", "3", "4"])
        await client.close()
        try await group.shutdownGracefully()
    }
}

/// A grpcio server script that prints its port, and runs until its standard
/// input closes.
struct PythonServer {
    let process: Process
    let input: Pipe
    let port: Int

    static func start(_ script: String) throws -> PythonServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Peer.python)
        process.arguments = ["-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw GRPCStatus(.unavailable, "the grpcio server did not start")
        }
        return PythonServer(process: process, input: input, port: port)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
