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
/// docs/cluster.md): the leader's address as the lease names it, and
/// HTTP/2 connections to it shared by the forwarded calls, at most
/// `callsPerConnection` open calls on each, so that the leader's limits per
/// connection (progress streams, concurrent streams) hold for each client
/// behind this node much as for a client of its own. Connections are made
/// as calls need them, up to `maxConnections`, and again when the leader
/// changes or a connection closes.
public final class LeaderLink: Sendable {
    private struct Connection {
        let client: GRPCClient
        var openCalls = 0
    }

    private struct State {
        var address: String?
        var connections: [Connection] = []
        var connecting = 0
    }

    /// Below the leader's 100 progress streams a connection.
    static let callsPerConnection = 64
    static let maxConnections = 256

    private let state = NIOLockedValueBox(State())
    private let group: any EventLoopGroup

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    /// The leader's HOST:PORT, or nil while none is known.
    public var address: String? { state.withLockedValue { $0.address } }

    /// Points the link at a new leader (nil: none); the old connections close.
    public func setLeader(_ address: String?) {
        let old: [Connection] = state.withLockedValue { state in
            guard state.address != address else { return [] }
            defer { state = State(address: address) }
            return state.connections
        }
        for connection in old { Task { await connection.client.close() } }
    }

    /// Whether the leader answers: a connection to it is open, or can be made.
    public func isReachable() async -> Bool {
        guard let client = try? await openCall() else { return false }
        endCall(on: client)
        return true
    }

    /// A connection to the leader for one more call (end it with
    /// `endCall`): the least busy open one, or a new one when all carry
    /// `callsPerConnection` calls.
    func openCall() async throws -> GRPCClient {
        enum Choice { case use(GRPCClient), connect(String), noLeader }
        let choice: Choice = state.withLockedValue { state in
            state.connections.removeAll { !$0.client.isConnected }  // closed (the leader went)
            guard let address = state.address else { return .noLeader }
            let least = state.connections.indices.min { state.connections[$0].openCalls < state.connections[$1].openCalls }
            if let least, state.connections[least].openCalls < Self.callsPerConnection
                || state.connections.count + state.connecting >= Self.maxConnections {
                state.connections[least].openCalls += 1
                return .use(state.connections[least].client)
            }
            state.connecting += 1
            return .connect(address)
        }
        switch choice {
        case .use(let client):
            return client
        case .noLeader:
            throw GRPCStatus(.unavailable, "no leader is known yet; try again shortly")
        case .connect(let address):
            do {
                guard let (host, port) = Self.split(address) else {
                    throw GRPCStatus(.unavailable, "the leader's address \(address) is not HOST:PORT")
                }
                let client = try await GRPCClient.connect(host: host, port: port, group: group)
                let kept = state.withLockedValue { state in
                    state.connecting -= 1
                    guard state.address == address else { return false }
                    state.connections.append(Connection(client: client, openCalls: 1))
                    return true
                }
                guard kept else {
                    await client.close()
                    throw GRPCStatus(.unavailable, "the leader changed; call again")
                }
                return client
            } catch {
                state.withLockedValue { $0.connecting -= 1 }
                if let status = error as? GRPCStatus { throw status }
                throw GRPCStatus(.unavailable, "cannot reach the leader at \(address): \(error)")
            }
        }
    }

    /// One call on `client` ended.
    func endCall(on client: GRPCClient) {
        state.withLockedValue { state in
            if let index = state.connections.firstIndex(where: { $0.client === client }) {
                state.connections[index].openCalls -= 1
            }
        }
    }

    /// Open connections and the calls on them (tests).
    var openCalls: [Int] { state.withLockedValue { $0.connections.map(\.openCalls) } }

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
            let client = try await openCall()
            defer { endCall(on: client) }
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
            for try await message in responses { try await writer.send(message) }
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
