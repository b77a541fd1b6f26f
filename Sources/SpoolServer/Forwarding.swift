#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRPCH2
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// A follower's way to the leader (several nodes on one PostgreSQL,
/// docs/cluster.md): the leader's address as the lease names it, and one
/// HTTP/2 connection to it that every forwarded call shares, made again
/// when the leader changes or the connection fails.
public final class LeaderLink: Sendable {
    private struct State {
        var address: String?
        var client: GRPCClient?
        var connecting: Task<GRPCClient, any Error>?
    }

    private let state = NIOLockedValueBox(State())
    private let group: any EventLoopGroup

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    /// The leader's HOST:PORT, or nil while none is known.
    public var address: String? { state.withLockedValue { $0.address } }

    /// Points the link at a new leader (nil: none); the old connection closes.
    public func setLeader(_ address: String?) {
        let old: GRPCClient? = state.withLockedValue { state in
            guard state.address != address else { return nil }
            defer { state = State(address: address) }
            state.connecting?.cancel()
            return state.client
        }
        if let old { Task { await old.close() } }
    }

    /// The connection to the leader, made if there is none.
    public func client() async throws -> GRPCClient {
        let (task, address): (Task<GRPCClient, any Error>?, String?) = state.withLockedValue { state in
            if let client = state.client {
                if client.isConnected { return (Task { client }, state.address) }
                state.client = nil  // closed (the leader went): connect again
            }
            guard let address = state.address else { return (nil, nil) }
            if let connecting = state.connecting { return (connecting, address) }
            let group = self.group
            let connecting = Task {
                guard let (host, port) = Self.split(address) else {
                    throw GRPCStatus(.unavailable, "the leader's address \(address) is not HOST:PORT")
                }
                return try await GRPCClient.connect(host: host, port: port, group: group)
            }
            state.connecting = connecting
            return (connecting, address)
        }
        guard let task, let address else { throw GRPCStatus(.unavailable, "no leader is known yet; try again shortly") }
        do {
            let client = try await task.value
            state.withLockedValue { state in
                if state.address == address && state.client == nil { state.client = client }
                state.connecting = nil
            }
            return client
        } catch {
            state.withLockedValue { $0.connecting = nil }
            throw GRPCStatus(.unavailable, "cannot reach the leader at \(address): \(error)")
        }
    }

    /// Forgets `client` after a call on it failed, so that the next call connects again.
    func dropped(_ client: GRPCClient) {
        let stale = state.withLockedValue { state -> Bool in
            guard state.client === client else { return false }
            state.client = nil
            return true
        }
        if stale { Task { await client.close() } }
    }

    static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65_535).contains(port) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// A handler that serves any call by making it again on the leader:
    /// request messages, metadata and deadline go there, its response
    /// messages and status come back. Streams included, so workers and
    /// progress watchers work through any node; when the leader goes, the
    /// call ends UNAVAILABLE and the client calls again.
    public var forwarder: RPCHandler {
        .bidirectionalStreaming { [self] requests, context, writer in
            let client = try await client()
            var metadata: [(name: String, value: String)] = []
            for (key, value) in context.metadata.entries {
                switch value {
                case .text(let text): metadata.append((key, text))
                case .binary(let bytes): metadata.append((key, Data(bytes).base64EncodedString()))
                }
            }
            let timeout = context.deadline.map { ContinuousClock.now.duration(to: $0) }
            if let timeout, timeout <= .zero { throw GRPCStatus(.deadlineExceeded, "the deadline passed before the call reached the leader") }
            let (sender, responses) = client.streamingCall(context.path, metadata: metadata, timeout: timeout)
            let pump = Task {
                do {
                    for try await message in requests { sender.send(message) }
                    sender.finish()
                } catch {}
            }
            defer { pump.cancel() }
            do {
                for try await message in responses { try await writer.send(message) }
            } catch let status as GRPCStatus {
                if status.code == .unavailable { dropped(client) }
                throw status
            }
        }
    }
}

/// What a follower answers an HTTP/1.1 client: `/healthz` itself, and a
/// redirect (307, so a POST stays a POST) to the same path on the leader
/// for everything else, the dashboard included; 503 while no leader is
/// known.
final class RedirectToLeader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let link: LeaderLink
    private let health: HealthService
    private let secure: Bool

    init(link: LeaderLink, health: HealthService, secure: Bool) {
        self.link = link
        self.health = health
        self.secure = secure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders([("content-type", "application/json"), ("connection", "close")])
        let status: HTTPResponseStatus
        let body: String
        if request.uri == "/healthz" {
            let serving = health.status(of: "") == .serving
            status = serving ? .ok : .serviceUnavailable
            body = #"{"status":"\#(serving ? "SERVING" : "NOT_SERVING")","role":"follower"}"#
        } else if let leader = link.address {
            status = .temporaryRedirect
            headers.add(name: "location", value: "\(secure ? "https" : "http")://\(leader)\(request.uri)")
            body = #"{"error":"this node is a follower; the leader is at \#(leader)"}"#
        } else {
            status = .serviceUnavailable
            headers.add(name: "retry-after", value: "1")
            body = #"{"error":"no leader is known yet; try again shortly"}"#
        }
        headers.add(name: "content-length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
