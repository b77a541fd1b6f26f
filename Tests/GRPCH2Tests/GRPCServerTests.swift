import Foundation
import GRPCH2
import Testing

/// The transport against real clients, in process so that handlers can
/// report what happened to them on the server side.
@Suite(.timeLimit(.minutes(2)))
struct GRPCServerTests {
    @Test func aClientCancelCancelsTheHandlerTask() async throws {
        let events = Events()
        var router = Router()
        router.register("/test.Calls/Hold", .serverStreaming { _, _, writer in
            try await writer.send([1])
            await Task.untilCancelled()
            events.record("cancelled")
        })
        let server = try await TestServer.start(router)
        let output = try await Peer.python("""
            import grpc, sys
            channel = grpc.insecure_channel(sys.argv[1])
            call = channel.unary_stream("/test.Calls/Hold")(b"")
            print("first", next(call))
            call.cancel()
            print("code", call.code())
            """, server.address)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.lines == ["first b'\\x01'", "code StatusCode.CANCELLED"])
        await events.wait(for: "cancelled")
        try await server.stop()
    }

    @Test func theServerEnforcesGrpcTimeoutAndCancelsTheHandler() async throws {
        let events = Events()
        var router = Router()
        router.register("/test.Calls/HoldUnary", .unary { _, context in
            events.record(context.deadline == nil ? "no deadline" : "has deadline")
            await Task.untilCancelled()
            events.record("cancelled")
            return []
        })
        let server = try await TestServer.start(router)
        // nghttp sends grpc-timeout but keeps no deadline of its own, so the
        // DEADLINE_EXCEEDED it prints can only come from the server.
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID()).bin")
        try Data([0, 0, 0, 0, 0]).write(to: body)
        let output = try await Peer.run("nghttp", [
            "-v", "-d", body.path, "-H", "content-type: application/grpc", "-H", "te: trailers",
            "-H", "grpc-timeout: 200m", "http://\(server.address)/test.Calls/HoldUnary",
        ])
        #expect(output.stdout.contains("grpc-status: 4"), "\(output.stdout)")
        #expect(output.stdout.contains("grpc-message: the call's deadline (grpc-timeout 200m) passed"))
        await events.wait(for: "has deadline")
        await events.wait(for: "cancelled")
        try await server.stop()
    }

    /// Requests only a raw HTTP/2 client can make, each with the status it gets.
    @Test(arguments: [
        (["-H", ":method: GET"], ":status: 405", "grpc-status: 12"),
        (["-d", "BODY", "-H", "content-type: text/plain"], ":status: 415", "grpc-status: 12"),
        (["-d", "BODY", "-H", "content-type: application/grpc", "-H", "grpc-timeout: soon"],
         ":status: 200", "grpc-message: malformed grpc-timeout \"soon\""),
        (["-d", "BODY", "-H", "content-type: application/grpc", "-H", "trace-bin: !!"],
         ":status: 200", "grpc-message: metadata trace-bin is not valid base64"),
    ])
    func malformedRequestsAreRefusedPrecisely(arguments: [String], httpStatus: String, grpcStatus: String) async throws {
        var router = Router()
        router.register("/test.Calls/Echo", .unary { request, _ in request })
        let server = try await TestServer.start(router)
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("echo-\(UUID()).bin")
        try Data([0, 0, 0, 0, 1, 7]).write(to: body)
        let output = try await Peer.run("nghttp", ["-v"] + arguments.map { $0 == "BODY" ? body.path : $0 }
            + ["http://\(server.address)/test.Calls/Echo"])
        #expect(output.stdout.contains(httpStatus), "\(output.stdout)")
        #expect(output.stdout.contains(grpcStatus), "\(output.stdout)")
        try await server.stop()
    }

    @Test func streamedResponsesArriveCompleteAndInOrderThroughFlowControl() async throws {
        var router = Router()
        // Request: 4-byte count; responses: 16 KiB messages starting with their index.
        router.register("/test.Calls/Count", .serverStreaming { request, _, writer in
            let count = request.reduce(0) { $0 << 8 | Int($1) }
            for index in 0..<count {
                var message = withUnsafeBytes(of: UInt32(index).bigEndian, Array.init)
                message += [UInt8](repeating: 0x5A, count: 16 * 1024 - 4)
                try await writer.send(message)
            }
        })
        let server = try await TestServer.start(router) { $0.responseBufferHighWaterMark = 64 * 1024 }
        let output = try await Peer.python("""
            import grpc, sys
            channel = grpc.insecure_channel(sys.argv[1])
            expected = 0
            for message in channel.unary_stream("/test.Calls/Count")((3000).to_bytes(4, "big")):
                assert len(message) == 16 * 1024, len(message)
                assert int.from_bytes(message[:4], "big") == expected, (message[:4], expected)
                expected += 1
            print("received", expected)
            """, server.address)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.lines == ["received 3000"])
        try await server.stop()
    }

    @Test func bidirectionalStreamsEchoEveryMessageInOrder() async throws {
        var router = Router()
        router.register("/test.Calls/Echo", .bidirectionalStreaming { requests, _, writer in
            for try await message in requests { try await writer.send(message) }
        })
        let server = try await TestServer.start(router)
        let output = try await Peer.python("""
            import grpc, sys
            channel = grpc.insecure_channel(sys.argv[1])
            sent = [i.to_bytes(4, "big") * 100 for i in range(500)]
            echoed = list(channel.stream_stream("/test.Calls/Echo")(iter(sent)))
            print("echoed", len(echoed), echoed == sent)
            """, server.address)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.lines == ["echoed 500 True"])
        try await server.stop()
    }

    @Test func handlerErrorsBecomeStatuses() async throws {
        var router = Router()
        router.register("/test.Calls/Fail", .unary { request, _ in
            switch request {
            case [1]: throw GRPCStatus(.failedPrecondition, "queue «paused»: 100% full")
            case [2]: throw CancellationError()
            default: throw NSError(domain: "x", code: 7)
            }
        })
        let server = try await TestServer.start(router)
        let output = try await Peer.python("""
            import grpc, sys
            channel = grpc.insecure_channel(sys.argv[1])
            for request in (b"\\x01", b"\\x02", b"\\x03"):
                try:
                    channel.unary_unary("/test.Calls/Fail")(request)
                except grpc.RpcError as error:
                    print(error.code().name, error.details())
            """, server.address)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.lines == [
            "FAILED_PRECONDITION queue «paused»: 100% full", "CANCELLED the call was cancelled",
            "UNKNOWN \(NSError(domain: "x", code: 7))",
        ])
        try await server.stop()
    }

    @Test func gracefulShutdownFinishesUnaryCallsAndEndsStreamsUnavailable() async throws {
        let events = Events()
        let gate = AsyncStream.makeStream(of: Void.self)
        var router = Router()
        router.register("/test.Calls/Gate", .unary { request, _ in
            events.record("unary started")
            for await _ in gate.stream { break }
            return request
        })
        router.register("/test.Calls/Hold", .serverStreaming { _, _, writer in
            try await writer.send([1])
            events.record("stream started")
            await Task.untilCancelled()
            events.record("stream cancelled")
        })
        let server = try await TestServer.start(router)
        async let client = Peer.python("""
            import grpc, sys
            channel = grpc.insecure_channel(sys.argv[1])
            unary = channel.unary_unary("/test.Calls/Gate").future(b"done")
            stream = channel.unary_stream("/test.Calls/Hold")(b"")
            next(stream)
            try:
                for _ in stream: pass
            except grpc.RpcError as error:
                print("stream", error.code().name, error.details())
            print("unary", unary.result())
            try:
                grpc.insecure_channel(sys.argv[1]).unary_unary("/test.Calls/Gate")(b"", timeout=5)
            except grpc.RpcError as error:
                print("new call", error.code().name)
            """, server.address)
        await events.wait(for: "unary started")
        await events.wait(for: "stream started")
        async let shutdown: Void = server.server.shutdown(gracePeriod: .seconds(60))
        await events.wait(for: "stream cancelled")
        gate.continuation.yield()
        await shutdown
        let output = try await client
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.lines == [
            "stream UNAVAILABLE the server is shutting down", "unary b'done'", "new call UNAVAILABLE",
        ])
        try await server.group.shutdownGracefully()
    }
}
