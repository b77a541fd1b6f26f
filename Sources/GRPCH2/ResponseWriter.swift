import NIOCore

/// Sends the response messages of a streaming call. `send` suspends while the
/// client reads slower than the handler writes (HTTP/2 flow control plus the
/// connection's buffer), so a slow consumer cannot make the server buffer
/// without bound. Throws `GRPCStatus(.cancelled)` once the call is over.
public struct ResponseWriter: Sendable {
    let call: CallHandle

    public func send(_ message: [UInt8]) async throws {
        try await call.send(message)
    }
}

/// A typed `ResponseWriter`.
public struct MessageWriter<Message: GRPCMessage>: Sendable {
    public let raw: ResponseWriter

    public init(_ raw: ResponseWriter) {
        self.raw = raw
    }

    public func send(_ message: Message) async throws {
        try await raw.send(message.grpcPayload())
    }
}

/// A call's way back to its connection, usable from any task: each method
/// hops onto the connection's event loop (directly when already on it).
struct CallHandle: Sendable {
    let connection: NIOLoopBound<GRPCConnectionHandler>
    let streamID: Int32

    var eventLoop: any EventLoop { connection.eventLoop }

    func send(_ message: [UInt8]) async throws {
        if eventLoop.inEventLoop {
            try await connection.value.send(message, on: streamID).get()
        } else {
            try await eventLoop.flatSubmit { [connection, streamID] in
                connection.value.send(message, on: streamID)
            }.get()
        }
    }

    /// The handler took request bytes: the stream's window may open by them.
    func consumed(_ byteCount: Int) {
        if eventLoop.inEventLoop {
            connection.value.consumed(byteCount, on: streamID)
        } else {
            eventLoop.execute { [connection, streamID] in
                connection.value.consumed(byteCount, on: streamID)
            }
        }
    }

    func finish(response: [UInt8]?, status: GRPCStatus) {
        if eventLoop.inEventLoop {
            connection.value.finish(streamID, response: response, status: status)
        } else {
            eventLoop.execute { [connection, streamID] in
                connection.value.finish(streamID, response: response, status: status)
            }
        }
    }
}
