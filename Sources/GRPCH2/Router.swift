import Synchronization

/// Maps method paths (`/package.Service/Method`) to handlers. Adding an RPC is
/// one registration; the connection code never changes for it.
public struct Router: Sendable {
    private var handlers: [String: RPCHandler] = [:]
    /// Methods that may have only so many calls open at once, on one
    /// connection and on the whole server (long-lived streams, each holding
    /// server memory).
    private var callLimits: [String: CallLimit] = [:]

    public init() {}

    /// At most `perConnection` calls of `path` open at once on one
    /// connection, and `total` on the whole server; more are answered
    /// RESOURCE_EXHAUSTED.
    public mutating func limitOpenCalls(of path: String, perConnection: Int, total: Int) {
        precondition(perConnection >= 1 && total >= 1, "a limit of calls lets one in at least")
        callLimits[path] = CallLimit(perConnection: perConnection, total: total)
    }

    func callLimit(for path: String) -> CallLimit? {
        callLimits[path]
    }

    public mutating func register(_ path: String, _ handler: RPCHandler) {
        precondition(handlers[path] == nil, "\(path) is registered twice")
        handlers[path] = handler
    }

    /// Serves every path no handler is registered for (a node forwarding
    /// calls to another server); without it such calls are UNIMPLEMENTED.
    public var fallback: RPCHandler?

    public func handler(for path: String) -> RPCHandler? {
        handlers[path] ?? fallback
    }

    /// This router with `check` run before every call whose path does not
    /// start with one of `exemptPrefixes`, before its request is decoded. A
    /// `GRPCStatus` thrown by `check` is the call's answer.
    public func checking(
        except exemptPrefixes: [String] = [], _ check: @escaping @Sendable (RPCContext) throws(GRPCStatus) -> Void
    ) -> Router {
        var checked = Router()
        checked.callLimits = callLimits
        if let fallback { checked.fallback = Self.checked(fallback, check) }
        for (path, handler) in handlers {
            guard !exemptPrefixes.contains(where: { path.hasPrefix($0) }) else {
                checked.handlers[path] = handler
                continue
            }
            checked.handlers[path] = Self.checked(handler, check)
        }
        return checked
    }

    /// `handler` with `check` run first.
    private static func checked(_ handler: RPCHandler, _ check: @escaping @Sendable (RPCContext) throws(GRPCStatus) -> Void) -> RPCHandler {
        switch handler {
        case .unary(let body):
            .unary { request, context in
                try check(context)
                return try await body(request, context)
            }
        case .unaryCallback(let body):
            .unaryCallback { request, context, responder in
                try check(context)
                try body(request, context, responder)
            }
        case .serverStreaming(let body):
            .serverStreaming { request, context, writer in
                try check(context)
                try await body(request, context, writer)
            }
        case .bidirectionalStreaming(let body):
            .bidirectionalStreaming { requests, context, writer in
                try check(context)
                try await body(requests, context, writer)
            }
        }
    }

    /// Looks at a request's bytes before they are decoded; a `GRPCStatus`
    /// it throws is the call's answer. For what decoding would cost too much.
    public typealias Precheck = @Sendable ([UInt8]) throws(GRPCStatus) -> Void

    public mutating func unary<Request: GRPCMessage, Response: GRPCMessage>(
        _ path: String, precheck: Precheck? = nil,
        _ body: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        register(path, .unary { bytes, context in
            try await body(try Router.decode(bytes, path: path, precheck: precheck), context).grpcPayload()
        })
    }

    /// A unary method answered through a responder, with no task per call
    /// (see `RPCHandler.unaryCallback`).
    public mutating func unaryCallback<Request: GRPCMessage, Response: GRPCMessage>(
        _ path: String, precheck: Precheck? = nil,
        _ body: @escaping @Sendable (Request, RPCContext, MessageResponder<Response>) throws -> Void
    ) {
        register(path, .unaryCallback { bytes, context, responder in
            try body(try Router.decode(bytes, path: path, precheck: precheck), context, MessageResponder(responder))
        })
    }

    public mutating func serverStreaming<Request: GRPCMessage, Response: GRPCMessage>(
        _ path: String, precheck: Precheck? = nil,
        _ body: @escaping @Sendable (Request, RPCContext, MessageWriter<Response>) async throws -> Void
    ) {
        register(path, .serverStreaming { bytes, context, writer in
            try await body(try Router.decode(bytes, path: path, precheck: precheck), context, MessageWriter(writer))
        })
    }

    public mutating func bidirectionalStreaming<Request: GRPCMessage, Response: GRPCMessage>(
        _ path: String, precheck: Precheck? = nil,
        _ body: @escaping @Sendable (RequestMessages<Request>, RPCContext, MessageWriter<Response>) async throws -> Void
    ) {
        register(path, .bidirectionalStreaming { requests, context, writer in
            try await body(RequestMessages(raw: requests, path: path, precheck: precheck), context, MessageWriter(writer))
        })
    }

    /// A request message of `path`, after `precheck`: INVALID_ARGUMENT if it does not decode.
    public static func decode<Message: GRPCMessage>(_ bytes: [UInt8], path: String, precheck: Precheck? = nil) throws(GRPCStatus) -> Message {
        try precheck?(bytes)
        do {
            return try Message(grpcPayload: bytes)
        } catch let status as GRPCStatus {
            throw status
        } catch {
            throw GRPCStatus(.invalidArgument, "\(path): the request is not a valid \(Message.self): \(error)")
        }
    }
}

/// The typed request messages of a streaming call; a message that fails the
/// precheck or does not decode ends the iteration with INVALID_ARGUMENT.
public struct RequestMessages<Message: GRPCMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    let raw: RequestStream
    let path: String
    var precheck: Router.Precheck?

    public struct AsyncIterator: AsyncIteratorProtocol {
        var raw: RequestStream.AsyncIterator
        let path: String
        let precheck: Router.Precheck?

        public mutating func next() async throws -> Message? {
            guard let bytes = try await raw.next() else { return nil }
            return try Router.decode(bytes, path: path, precheck: precheck)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(raw: raw.makeAsyncIterator(), path: path, precheck: precheck)
    }
}

/// How many calls of one method may be open at once; the server-wide count
/// is shared by every connection.
final class CallLimit: Sendable {
    let perConnection: Int
    let total: Int
    private let open = Atomic<Int>(0)

    init(perConnection: Int, total: Int) {
        self.perConnection = perConnection
        self.total = total
    }

    /// Takes a place among the server's open calls, if one is free.
    func acquire() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < total {
            let (exchanged, original) = open.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() {
        open.subtract(1, ordering: .relaxed)
    }
}
