import NIOCore

/// Sends the response messages of a streaming call. `send` suspends while the
/// client reads slower than the handler writes (HTTP/2 flow control plus the
/// connection's buffer), so a slow consumer cannot make the server buffer
/// without bound. Throws `GRPCStatus(.cancelled)` once the call is over.
public struct ResponseWriter: Sendable {
    let call: CallHandle

    public func send(_ message: [UInt8]) async throws {
        try await call.send(CollectionOfOne(message))
    }

    /// Sends messages in order in one hop to the connection (one flush).
    public func send(contentsOf messages: [[UInt8]]) async throws {
        guard !messages.isEmpty else { return }
        try await call.send(messages)
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

    public func send(contentsOf messages: [Message]) async throws {
        try await raw.send(contentsOf: messages.map { $0.grpcPayload() })
    }
}

/// The answer of a `.unaryCallback` handler, given once from any thread.
public struct UnaryResponder: Sendable {
    let call: CallHandle

    /// Ends the call on its event loop with what `answer`, run there,
    /// returns (status OK) or throws (its status). Later answers are ignored.
    public func respond(_ answer: @escaping @Sendable () throws -> [UInt8]) {
        let call = self.call
        if call.eventLoop.inEventLoop {
            call.finish(answering: answer)
        } else {
            call.eventLoop.execute { call.finish(answering: answer) }
        }
    }
}

/// A typed `UnaryResponder`: the response is made and encoded on the call's event loop.
public struct MessageResponder<Message: GRPCMessage>: Sendable {
    public let raw: UnaryResponder

    public init(_ raw: UnaryResponder) {
        self.raw = raw
    }

    public func respond(_ answer: @escaping @Sendable () throws -> Message) {
        raw.respond { try answer().grpcPayload() }
    }
}

/// A call's way back to its connection, usable from any task: each method
/// hops onto the connection's event loop, or calls straight through when
/// already on it (no closure to allocate on the common path).
struct CallHandle: Sendable {
    let connection: NIOLoopBound<GRPCConnectionHandler>
    let streamID: Int32

    var eventLoop: any EventLoop { connection.eventLoop }

    func send<Messages: Collection<[UInt8]> & Sendable>(_ messages: Messages) async throws {
        if eventLoop.inEventLoop {
            try await connection.value.send(messages, on: streamID).get()
        } else {
            try await eventLoop.flatSubmit { [connection, streamID] in
                connection.value.send(messages, on: streamID)
            }.get()
        }
    }

    /// The handler took request bytes: the stream's window may open by them.
    func consumed(_ byteCount: Int) {
        if eventLoop.inEventLoop {
            connection.value.consumed(byteCount, on: streamID)
        } else {
            eventLoop.execute { [connection, streamID] in connection.value.consumed(byteCount, on: streamID) }
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

    /// On the event loop: ends the call with the response `answer` makes
    /// (status OK), or with the status of what it throws.
    func finish(answering answer: () throws -> [UInt8]) {
        do {
            connection.value.finish(streamID, response: try answer(), status: .ok)
        } catch {
            connection.value.finish(streamID, response: nil, status: GRPCConnectionHandler.status(for: error))
        }
    }
}
