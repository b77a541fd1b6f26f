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
        // A callback handler that never answers has no task to cancel: the deadline ends its call.
        router.register("/test.Calls/Never", .unaryCallback { _, _, _ in })
        let server = try await TestServer.start(router)
        // nghttp sends grpc-timeout but keeps no deadline of its own, so the
        // DEADLINE_EXCEEDED it prints can only come from the server.
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID()).bin")
        try Data([0, 0, 0, 0, 0]).write(to: body)
        for method in ["HoldUnary", "Never"] {
            let output = try await Peer.run("nghttp", [
                "-v", "-d", body.path, "-H", "content-type: application/grpc", "-H", "te: trailers",
                "-H", "grpc-timeout: 200m", "http://\(server.address)/test.Calls/\(method)",
            ])
            #expect(output.stdout.contains("grpc-status: 4"), "\(method): \(output.stdout)")
            #expect(output.stdout.contains("grpc-message: the call's deadline (grpc-timeout 200m) passed"))
        }
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
        (["-d", "BODY", "-H", "content-type: application/grpc", "-H", "grpc-timeout: 99999999H"],
         ":status: 200", "grpc-status: 0"),
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

    /// A client streaming to a handler that does not read gets no further
    /// than the stream's flow-control window (and the message arriving): the
    /// server opens the window as the handler takes messages, not as they
    /// arrive. The client, raw HTTP/2 (Python h2), sends while its window
    /// lets it, then sends PING: any WINDOW_UPDATE the server queued for
    /// those bytes arrives before the PING's ACK. No room after the ACK
    /// means the server holds the client back.
    @Test func requestStreamsWaitForTheHandlerToReadThroughFlowControl() async throws {
        let events = Events()
        var router = Router()
        router.register("/test.Calls/Hold", .bidirectionalStreaming { requests, _, writer in
            var messages = requests.makeAsyncIterator()
            guard try await messages.next() != nil else { return }
            try await writer.send([1])  // the first message is read; the rest wait
            await events.wait(for: "go")
            var count = 1
            while try await messages.next() != nil { count += 1 }
            try await writer.send(withUnsafeBytes(of: UInt32(count).bigEndian, Array.init))
        })
        router.register("/test.Calls/Go", .unary { _, _ in
            events.record("go")
            return []
        })
        let window = 65535
        let messageSize = 5 + 16384
        let server = try await TestServer.start(router) { $0.initialWindowSize = UInt32(window) }
        let output = try await Peer.python("""
            import socket, sys
            import h2.config, h2.connection, h2.events
            host, port = sys.argv[1].rsplit(":", 1)
            sock = socket.create_connection((host, int(port)))
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            headers = [(":method", "POST"), (":scheme", "http"), (":authority", sys.argv[1]),
                       ("content-type", "application/grpc"), ("te", "trailers")]
            message = b"\\0" + (16384).to_bytes(4, "big") + b"m" * 16384
            total = 64 * len(message)
            data, ended, pings = {1: b"", 3: b""}, set(), []

            def pump():
                for event in conn.receive_data(sock.recv(65536)):
                    if isinstance(event, h2.events.DataReceived):
                        data[event.stream_id] += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        ended.add(event.stream_id)
                    elif isinstance(event, h2.events.PingAckReceived):
                        pings.append(event)
                sock.sendall(conn.data_to_send())

            def send(stream, payload, end=False):
                # As much as the windows let through; the rest waits for WINDOW_UPDATE.
                while payload:
                    room = min(conn.local_flow_control_window(stream), conn.max_outbound_frame_size, len(payload))
                    if room == 0:
                        pump()
                        continue
                    conn.send_data(stream, payload[:room])
                    sock.sendall(conn.data_to_send())
                    payload = payload[room:]
                if end:
                    conn.end_stream(stream)
                    sock.sendall(conn.data_to_send())

            def room():
                # Every WINDOW_UPDATE the server has queued so far is in once PING is answered.
                conn.ping(b"12345678")
                sock.sendall(conn.data_to_send())
                answered = len(pings) + 1
                while len(pings) < answered:
                    pump()
                return conn.local_flow_control_window(1) >= len(message)

            conn.send_headers(1, [(":path", "/test.Calls/Hold")] + headers)
            send(1, message)
            while not data[1]:
                pump()
            # The handler holds: send while there is room.
            sent = len(message)
            while sent < total and room():
                while sent < total and conn.local_flow_control_window(1) >= len(message):
                    send(1, message)
                    sent += len(message)
            print("held after", sent, "of", total)
            conn.send_headers(3, [(":path", "/test.Calls/Go")] + headers)
            send(3, b"\\0\\0\\0\\0\\0", end=True)
            send(1, message * ((total - sent) // len(message)), end=True)
            while 1 not in ended:
                pump()
            print("handler read", int.from_bytes(data[1][-4:], "big"))
            """, server.address)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.lines.count == 2, "\(output.stdout)")
        let held = output.lines.first.flatMap { Int($0.split(separator: " ")[2]) } ?? .max
        // The window, and at most the message it was taking in and the one after.
        #expect(held <= window + 2 * messageSize, "\(output.stdout)")
        #expect(output.lines.last == "handler read 64")
        try await server.stop()
    }

    /// A request message larger than the stream's window still gets in: the
    /// window opens for the message the handler waits for.
    @Test func requestMessagesLargerThanTheWindowArrive() async throws {
        var router = Router()
        router.register("/test.Calls/Sizes", .bidirectionalStreaming { requests, _, writer in
            for try await message in requests {
                try await writer.send(withUnsafeBytes(of: UInt32(message.count).bigEndian, Array.init))
            }
        })
        let server = try await TestServer.start(router) { $0.initialWindowSize = 65535 }
        let output = try await Peer.python("""
            import grpc, sys
            channel = grpc.insecure_channel(sys.argv[1])
            sent = [bytes([i]) * size for i, size in enumerate((300_000, 10, 1_000_000, 65_536))]
            sizes = [int.from_bytes(m, "big") for m in channel.stream_stream("/test.Calls/Sizes")(iter(sent))]
            print(sizes)
            """, server.address)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.lines == ["[300000, 10, 1000000, 65536]"])
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

    /// A callback handler runs no task: it answers from any thread, once
    /// (a second answer is ignored); what it throws, at once or in its
    /// answer, is the call's status.
    @Test func callbackHandlersAnswerOnceFromAnyThread() async throws {
        var router = Router()
        router.register("/test.Calls/Later", .unaryCallback { request, _, responder in
            DispatchQueue.global().async {
                responder.respond { request.reversed() }
                responder.respond { [0] }
            }
        })
        router.register("/test.Calls/Refuse", .unaryCallback { _, _, _ in
            throw GRPCStatus(.failedPrecondition, "refused before any work")
        })
        router.register("/test.Calls/FailLater", .unaryCallback { _, _, responder in
            DispatchQueue.global().async {
                responder.respond { throw GRPCStatus(.resourceExhausted, "failed on another thread") }
            }
        })
        router.register("/test.Private/Put", .unaryCallback { _, _, _ in Issue.record("the handler ran") })
        // A router's check runs before a callback handler too.
        let checked = router.checking(except: ["/test.Calls/"]) { context throws(GRPCStatus) in
            throw GRPCStatus(.unauthenticated, "no entry to \(context.path)")
        }
        let server = try await TestServer.start(checked)
        let output = try await Peer.python("""
            import grpc, sys
            channel = grpc.insecure_channel(sys.argv[1])
            print(channel.unary_unary("/test.Calls/Later")(b"abc"))
            for method in ("/test.Calls/Refuse", "/test.Calls/FailLater", "/test.Private/Put"):
                try:
                    channel.unary_unary(method)(b"")
                except grpc.RpcError as error:
                    print(error.code().name, error.details())
            """, server.address)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.lines == [
            "b'cba'", "FAILED_PRECONDITION refused before any work", "RESOURCE_EXHAUSTED failed on another thread",
            "UNAUTHENTICATED no entry to /test.Private/Put",
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
