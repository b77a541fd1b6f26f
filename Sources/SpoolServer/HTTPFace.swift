#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRPCH2
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SpoolCore
import SpoolWire

/// Spool's HTTP/1.1 face, on the gRPC port (docs/http.md): a client whose
/// first bytes are not HTTP/2's preface is served here. It gives browsers
/// the dashboard, people and scripts a JSON API over the same engine calls
/// as the RPCs, live events as server-sent events, and Prometheus
/// `/metrics`. With tokens configured, everything but the dashboard's files
/// and `/healthz` needs `Authorization: Bearer <token>` (a client token).
struct HTTPFace: Sendable {
    let engine: QueueEngine
    let health: HealthService
    let authorization: BearerAuthorization?
    let metrics: MetricsEndpoint
    let progressStreams: ProgressStreamLimits
    let maxBodyBytes: Int
    let limits: RequestLimits
    let admin: AdminCalls
    /// How long a connection may wait between requests before it is closed.
    let idleTimeout: TimeAmount
    private let openEventStreams = NIOLockedValueBox(0)

    init(engine: QueueEngine, health: HealthService, tokens: Tokens, metrics: MetricsEndpoint,
         progressStreams: ProgressStreamLimits, maxBodyBytes: Int, idleTimeout: TimeAmount = .seconds(60)) {
        self.idleTimeout = idleTimeout
        self.engine = engine
        self.health = health
        authorization = tokens.isEnabled ? BearerAuthorization(tokens) : nil
        self.metrics = metrics
        self.progressStreams = progressStreams
        self.maxBodyBytes = maxBodyBytes
        limits = RequestLimits(maxBatchSize: engine.configuration.maxBatchSize)
        admin = AdminCalls(engine: engine)
    }

    typealias Inbound = NIOAsyncChannelInboundStream<HTTPServerRequestPart>
    typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    /// Adds the HTTP/1.1 handlers to `channel` (on its event loop) and
    /// serves it until it closes.
    func install(on channel: any Channel) throws {
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(CloseOnDrain())
        let busy = NIOLockedValueBox(false)
        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
        try channel.pipeline.syncOperations.addHandler(CloseWhenIdle(busy: busy))
        let connection = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
            wrappingChannelSynchronously: channel)
        Task { await serve(connection, busy: busy) }
    }

    /// `busy`: a request is being answered, or an event stream runs: the
    /// client owes no bytes then, and the idle timeout does not apply. A
    /// request sent halfway and left there is idle.
    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
                       busy: NIOLockedValueBox<Bool>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let next):
                    head = next
                    body.clear()
                    tooLarge = false
                case .body(var chunk):
                    if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                        tooLarge = true
                    } else {
                        body.writeBuffer(&chunk)
                    }
                case .end:
                    guard let request = head else { continue }
                    head = nil
                    // Answering: the client owes nothing until the answer is out.
                    busy.withLockedValue { $0 = true }
                    let keepAlive = request.isKeepAlive
                    if tooLarge {
                        try await write(.error(.payloadTooLarge, "RESOURCE_EXHAUSTED",
                                               "the body is larger than \(maxBodyBytes) bytes"), keepAlive: false, to: outbound)
                        return
                    }
                    let answer = await respond(to: HTTPRequest(head: request, body: body))
                    switch answer {
                    case .full(let response):
                        try await write(response, keepAlive: keepAlive, to: outbound)
                        busy.withLockedValue { $0 = false }
                    case .events(let subscription):
                        try await stream(subscription, to: outbound, closing: connection.channel)
                        return
                    }
                    if !keepAlive { return }
                }
            }
        }
    }

    // MARK: Routing

    enum Answer {
        case full(HTTPResponse)
        case events(Subscription)
    }

    func respond(to request: HTTPRequest) async -> Answer {
        let path = request.path
        let method = request.head.method
        if method == .GET || method == .HEAD, let asset = DashboardAssets.file(at: path) {
            return .full(HTTPResponse(status: .ok, contentType: asset.contentType, body: Array(asset.body.utf8),
                                      headers: Self.assetHeaders))
        }
        if path == "/healthz" {
            let serving = health.status(of: "") == .serving
            return .full(HTTPResponse(status: serving ? .ok : .serviceUnavailable, contentType: "text/plain; charset=utf-8",
                                      body: Array((serving ? "SERVING\n" : "NOT_SERVING\n").utf8)))
        }
        do {
            guard path == "/metrics" || path.hasPrefix("/api/") else {
                throw HTTPError(.notFound, "NOT_FOUND", "no such page: \(path)")
            }
            try authorize(request)
            if path == "/metrics" {
                guard method == .GET else { throw HTTPError.method(method) }
                return .full(HTTPResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                          body: try await metrics.scrape(engine)))
            }
            return try await api(request)
        } catch let error as HTTPError {
            return .full(.error(error.status, error.code, error.message))
        } catch let error as EngineError {
            let status = GRPCStatus(error)
            return .full(.error(HTTPError.httpStatus(of: status.code), status.code.protoName, status.message))
        } catch let status as GRPCStatus {
            return .full(.error(HTTPError.httpStatus(of: status.code), status.code.protoName, status.message))
        } catch {
            return .full(.error(.internalServerError, "INTERNAL", "\(error)"))
        }
    }

    private static let assetHeaders = [
        ("Cache-Control", "no-cache"),
        // The page runs its own script and style only, and talks to this server only.
        ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
    ]

    private func authorize(_ request: HTTPRequest) throws {
        guard let authorization else { return }
        var metadata = Metadata()
        if let header = request.head.headers.first(name: "authorization") {
            try? metadata.add(wireName: "authorization", wireValue: header)
        }
        do {
            // Checked as the RPC it mirrors: a worker token cannot use the JSON API.
            try authorization.check(RPCContext(path: "/spool.v1.JobQueue/" + request.path, metadata: metadata))
        } catch {
            throw HTTPError(HTTPError.httpStatus(of: error.code), error.code.protoName, error.message)
        }
    }

    /// /api/v1/…: the JSON API.
    private func api(_ request: HTTPRequest) async throws -> Answer {
        var parts: [String] = []
        for part in request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard let decoded = HTTPRequest.Query.decode(part) else {
                throw HTTPError(.badRequest, "INVALID_ARGUMENT", "the path is not percent-encoded UTF-8")
            }
            parts.append(decoded)
        }
        guard parts.count >= 2, parts[0] == "api", parts[1] == "v1" else {
            throw HTTPError(.notFound, "NOT_FOUND", "the JSON API is under /api/v1/")
        }
        let route = Array(parts.dropFirst(2))
        let method = request.head.method
        if let invalid = request.query.invalid {
            throw HTTPError(.badRequest, "INVALID_ARGUMENT", "the query parameter \"\(invalid)\" is not percent-encoded UTF-8")
        }
        if method == .POST {
            // A plain HTML form cannot send JSON without the browser asking
            // this server first (CORS), which it never allows: no cross-site
            // page can cancel or enqueue through a browser that reaches spoold.
            guard request.head.headers.first(name: "content-type")?.lowercased().hasPrefix("application/json") == true else {
                throw HTTPError(.unsupportedMediaType, "INVALID_ARGUMENT", "POST needs Content-Type: application/json")
            }
        }
        switch (method, route.count, route.first) {
        case (.GET, 1, "status"):
            let query = request.query
            var wire = GetStatusRequest()
            wire.queues = query.all("queue")
            wire.jobIds = query.all("job")
            wire.batchId = query.first("batch") ?? ""
            wire.onlySelected = query.flag("only_selected")
            try limits.getStatus.precheck(wire.serializedBytes())
            let status = try await engine.status(queues: wire.queues, jobIDs: wire.jobIds, batchID: wire.batchId,
                                                 onlySelected: wire.onlySelected)
            return .full(try .json(GetStatusResponse(status)))
        case (.POST, 1, "jobs"):
            let spec = try request.decode(JobSpec.self)
            try limits.enqueue.precheck(EnqueueRequest(job: spec).serializedBytes())
            let result = try await withCheckedContinuation { continuation in
                engine.enqueue([JobRequest(spec)]) { continuation.resume(returning: $0) }
            }.get()
            let item = result.items[0]
            return .full(try .json(EnqueueResponse(job: Job(item.job), deduplicated: item.deduplicated)))
        case (.GET, 1, "jobs"):
            return .full(try .json(try await admin.listJobs(try Self.listRequest(request.query))))
        case (.POST, 3, "jobs") where route[2] == "retry":
            let reason = try request.decodeIfPresent(ReasonBody.self)?.reason ?? ""
            return .full(try .json(try await admin.retry(RetryRequest(jobId: route[1], reason: reason))))
        case (.POST, 2, "queues"), (.POST, 3, "queues"):
            var update = UpdateQueueRequest()
            update.queue = route[1]
            if route.count == 3 {
                switch route[2] {
                case "pause": update.pause = .pause
                case "resume": update.pause = .resume
                default: throw HTTPError(.notFound, "NOT_FOUND", "no such API: \(request.path)")
                }
            } else {
                let body = try request.decode(QueueBody.self)
                if let paused = body.paused { update.pause = paused ? .pause : .resume }
                update.concurrency = body.concurrency ?? 0
                update.rate = body.rate
                update.reset = body.reset ?? false
            }
            return .full(try .json(try await admin.updateQueue(update)))
        case (.GET, 2, "jobs"):
            let status = try await engine.status(jobIDs: [route[1]], onlySelected: true)
            return .full(try .json(Job(status.jobs[0])))
        case (.GET, 3, "jobs") where route[2] == "payload":
            let payload = try await engine.payload(ofJob: route[1])
            return .full(HTTPResponse(status: .ok, contentType: "application/octet-stream", body: payload))
        case (.POST, 3, "jobs") where route[2] == "cancel":
            let reason = try request.decodeIfPresent(ReasonBody.self)?.reason ?? ""
            return .full(try .json(CancelResponse(jobs: [Job(try await engine.cancel(jobID: route[1], reason: reason))])))
        case (.GET, 2, "batches"):
            let status = try await engine.status(batchID: route[1], onlySelected: true)
            return .full(try .json(status.batch.map(SpoolWire.BatchSummary.init) ?? SpoolWire.BatchSummary()))
        case (.POST, 3, "batches") where route[2] == "cancel":
            let reason = try request.decodeIfPresent(ReasonBody.self)?.reason ?? ""
            return .full(try .json(CancelResponse(jobs: try await engine.cancel(batchID: route[1], reason: reason).map(Job.init))))
        case (.GET, 1, "events"):
            return .events(try await subscribe(request))
        case (_, _, "status"), (_, _, "jobs"), (_, _, "batches"), (_, _, "events"), (_, _, "queues"):
            throw HTTPError.method(method)
        default:
            throw HTTPError(.notFound, "NOT_FOUND", "no such API: \(request.path)")
        }
    }

    /// The optional body of a cancel or a retry.
    private struct ReasonBody: Decodable {
        var reason: String?
    }

    /// `POST /api/v1/queues/NAME`: what to change; what is left out stays.
    private struct QueueBody: Decodable {
        var paused: Bool?
        var concurrency: Int32?
        var rate: QueueRate?
        var reset: Bool?
    }

    /// `GET /api/v1/jobs?…` as a ListJobsRequest: `state` and `label`
    /// (`key=value`, or `key:value`) repeat.
    static func listRequest(_ query: HTTPRequest.Query) throws -> ListJobsRequest {
        var list = ListJobsRequest()
        list.queue = query.first("queue") ?? ""
        list.type = query.first("type") ?? ""
        list.batchId = query.first("batch") ?? ""
        for name in query.all("state") {
            let bare = name.uppercased().replacing("JOB_STATE_", with: "")
            guard let state = WireJobState.allCases.first(where: { $0 != .unspecified && $0.protoName == "JOB_STATE_" + bare }) else {
                throw HTTPError(.badRequest, "INVALID_ARGUMENT", "state \"\(name)\" is not a job state (blocked, scheduled, queued, running, succeeded, failed, cancelled)")
            }
            list.states.append(state)
        }
        let most = JobState.allCases.count
        guard list.states.count <= most else { throw HTTPError(.badRequest, "INVALID_ARGUMENT", "state is given more than \(most) times") }
        for label in query.all("label") {
            guard let separator = label.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw HTTPError(.badRequest, "INVALID_ARGUMENT", "label must be key=value, not \"\(label.prefix(100))\"")
            }
            list.labels[String(label[..<separator])] = String(label[label.index(after: separator)...])
        }
        guard list.labels.count <= JobLimits.maxLabels else {
            throw HTTPError(.badRequest, "INVALID_ARGUMENT", "at most \(JobLimits.maxLabels) labels")
        }
        func number<T: FixedWidthInteger>(_ name: String, _ type: T.Type) throws -> T {
            guard let text = query.first(name) else { return 0 }
            guard let value = T(text) else { throw HTTPError(.badRequest, "INVALID_ARGUMENT", "\(name) must be a number, not \"\(text.prefix(100))\"") }
            return value
        }
        list.createdAfterMs = try number("created_after_ms", Int64.self)
        list.createdBeforeMs = try number("created_before_ms", Int64.self)
        list.pageSize = try number("page_size", UInt32.self)
        list.pageToken = query.first("page_token") ?? ""
        switch query.first("order") ?? "newest" {
        case "newest": list.oldestFirst = false
        case "oldest": list.oldestFirst = true
        case let other: throw HTTPError(.badRequest, "INVALID_ARGUMENT", "order is newest or oldest, not \"\(other.prefix(100))\"")
        }
        return list
    }

    // MARK: Server-sent events

    /// `GET /api/v1/events?queue=Q | job=ID… | batch=B`, none of them: every
    /// queue. Resumes after `after_seq`, or the `Last-Event-ID` a browser's
    /// EventSource sends when it reconnects.
    private func subscribe(_ request: HTTPRequest) async throws -> Subscription {
        let query = request.query
        var wire = StreamProgressRequest()
        wire.jobIds = query.all("job")
        wire.batchId = query.first("batch") ?? ""
        wire.queue = query.first("queue") ?? ""
        wire.allQueues = wire.jobIds.isEmpty && wire.batchId.isEmpty && wire.queue.isEmpty
        let resume = request.head.headers.first(name: "last-event-id") ?? query.first("after_seq") ?? "0"
        guard let afterSeq = UInt64(resume) else {
            throw HTTPError(.badRequest, "INVALID_ARGUMENT", "after_seq (or Last-Event-ID) must be a seq, not \"\(resume)\"")
        }
        try limits.streamProgress.precheck(wire.serializedBytes())
        let selection: Selection
        do {
            selection = try JobQueueService.selection(of: wire)
        } catch let status as GRPCStatus {
            throw HTTPError(HTTPError.httpStatus(of: status.code), status.code.protoName, status.message)
        }
        let admitted = openEventStreams.withLockedValue { open in
            guard open < progressStreams.total else { return false }
            open += 1
            return true
        }
        guard admitted else {
            throw HTTPError(.tooManyRequests, "RESOURCE_EXHAUSTED", "too many event streams are open (\(progressStreams.total))")
        }
        do {
            return try await engine.subscribe(selection, afterSeq: afterSeq)
        } catch {
            openEventStreams.withLockedValue { $0 -= 1 }
            throw error
        }
    }

    /// Writes `subscription`'s events as `text/event-stream` until it ends
    /// or the client leaves: `id` is the seq, `event` the kind (snapshot,
    /// state, progress, position), `data` the `ProgressEvent` as JSON. An
    /// ended stream says why in a last `event: end`.
    private func stream(_ subscription: Subscription, to outbound: Outbound, closing channel: any Channel) async throws {
        defer { openEventStreams.withLockedValue { $0 -= 1 } }
        let engine = self.engine
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        head.headers.add(name: "Cache-Control", value: "no-cache")
        head.headers.add(name: "Connection", value: "close")
        try await outbound.write(.head(head))
        // A reader that leaves between events: end the subscription, which ends the loop below.
        channel.closeFuture.whenComplete { _ in Task { await engine.unsubscribe(subscription) } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var end: (code: String, message: String)?
        do {
            for try await event in subscription {
                var text = "id: \(event.seq)\nevent: \(event.kind)\ndata: "
                text += String(decoding: try encoder.encode(ProgressEvent(event)), as: UTF8.self)
                text += "\n\n"
                try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
            }
        } catch let error as SubscriptionError {
            let status = GRPCStatus(error)
            end = (status.code.protoName, status.message)
        } catch is EngineError {
            end = ("UNAVAILABLE", "the server is shutting down")
        }
        await engine.unsubscribe(subscription)
        if let end {
            let data = (try? encoder.encode(["code": end.code, "message": end.message])) ?? Data()
            let text = "event: end\ndata: " + String(decoding: data, as: UTF8.self) + "\n\n"
            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
        }
        try await outbound.write(.end(nil))
    }

    // MARK: Writing

    private func write(_ response: HTTPResponse, keepAlive: Bool, to outbound: Outbound) async throws {
        var head = HTTPResponseHead(version: .http1_1, status: response.status)
        head.headers.add(name: "Content-Type", value: response.contentType)
        head.headers.add(name: "Content-Length", value: String(response.body.count))
        for (name, value) in response.headers { head.headers.add(name: name, value: value) }
        if !keepAlive { head.headers.add(name: "Connection", value: "close") }
        try await outbound.write(.head(head))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
        try await outbound.write(.end(nil))
    }
}

/// Ends an HTTP/1.1 connection when the server drains: by then the engine
/// has stopped, and event streams have said so.
private final class CloseOnDrain: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is GRPCServer.DrainEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// Closes an HTTP/1.1 connection that has sent nothing for the idle timeout
/// while no request is being answered (`IdleStateHandler` says when).
private final class CloseWhenIdle: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let busy: NIOLockedValueBox<Bool>

    init(busy: NIOLockedValueBox<Bool>) { self.busy = busy }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event {
            if !busy.withLockedValue({ $0 }) { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// A request as the routes see it.
struct HTTPRequest {
    let head: HTTPRequestHead
    let body: ByteBuffer
    let path: String
    let query: Query

    init(head: HTTPRequestHead, body: ByteBuffer) {
        self.head = head
        self.body = body
        let uri = head.uri
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            query = Query(String(uri[uri.index(after: mark)...]))
        } else {
            path = uri
            query = Query("")
        }
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, "INVALID_ARGUMENT", "the body is not the JSON expected: \(Self.describe(error))")
        }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type) throws -> T? {
        body.readableBytes == 0 ? nil : try decode(type)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context),
             DecodingError.valueNotFound(_, let context), DecodingError.keyNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    /// The query string's pairs, percent-decoded (`+` is a space).
    struct Query {
        private var pairs: [(String, String)] = []
        /// The first pair that is not percent-encoded UTF-8, if any.
        private(set) var invalid: String?

        init(_ text: String) {
            for pair in text.split(separator: "&") {
                let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.decode(halves[0]), let value = Self.decode(halves.count > 1 ? halves[1] : "") else {
                    if invalid == nil { invalid = String(pair.prefix(100)) }
                    continue
                }
                pairs.append((name, value))
            }
        }

        func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1).filter { !$0.isEmpty } }
        func first(_ name: String) -> String? { all(name).first }
        func flag(_ name: String) -> Bool { ["1", "true", "yes"].contains(first(name)?.lowercased() ?? "") }

        static func decode(_ text: Substring) -> String? {
            var bytes: [UInt8] = []
            var iterator = text.utf8.makeIterator()
            while let byte = iterator.next() {
                switch byte {
                case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
                case UInt8(ascii: "%"):
                    guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                    bytes.append(high << 4 | low)
                default: bytes.append(byte)
                }
            }
            return String(validating: bytes, as: UTF8.self)
        }

        private static func hexValue(_ byte: UInt8) -> UInt8? {
            Character(Unicode.Scalar(byte)).hexDigitValue.map(UInt8.init)
        }
    }
}

struct HTTPResponse {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    var headers: [(String, String)] = []

    static func json(_ value: some Encodable) throws -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return HTTPResponse(status: .ok, contentType: "application/json", body: Array(try encoder.encode(value)))
    }

    /// `{"code": "NOT_FOUND", "message": "…"}`, the code being the gRPC status's name.
    static func error(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(["code": code, "message": message])).map(Array.init) ?? []
        return HTTPResponse(status: status, contentType: "application/json", body: body)
    }
}

struct HTTPError: Error {
    let status: HTTPResponseStatus
    let code: String
    let message: String

    init(_ status: HTTPResponseStatus, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func method(_ method: HTTPMethod) -> HTTPError {
        HTTPError(.methodNotAllowed, "UNIMPLEMENTED", "\(method) is not served here")
    }

    /// The HTTP status for a gRPC code, as gRPC's HTTP gateways map them.
    static func httpStatus(of code: GRPCStatus.Code) -> HTTPResponseStatus {
        switch code {
        case .ok: .ok
        case .invalidArgument, .outOfRange, .failedPrecondition: .badRequest
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .alreadyExists, .aborted: .conflict
        case .resourceExhausted: .tooManyRequests
        case .unimplemented: .notImplemented
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        case .cancelled, .unknown, .internal, .dataLoss: .internalServerError
        }
    }
}

extension GRPCStatus.Code {
    /// The proto's name: "NOT_FOUND".
    var protoName: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }
}
