import GRPCH2
import Synchronization
import SpoolWire

/// grpc.health.v1.Health: the serving status of the server ("") and of each
/// service it registers. `Check` answers NOT_FOUND for an unknown service;
/// `Watch` reports SERVICE_UNKNOWN instead and keeps watching.
public final class HealthService: Sendable {
    public typealias Status = HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = [:]
        var watchers: [Int: (service: String, continuation: AsyncStream<Status>.Continuation)] = [:]
        var nextWatcher = 0
        var ending = false
        /// Resumed once the last Watch call has returned.
        var watchesEnded: [CheckedContinuation<Void, Never>] = []
        var runningWatches = 0
    }

    private let state = Mutex(State())

    /// `services` start SERVING, as does the server as a whole ("").
    public init(services: [String]) {
        state.withLock { state in
            state.statuses[""] = .serving
            for service in services { state.statuses[service] = .serving }
        }
    }

    public func status(of service: String) -> Status? {
        state.withLock { $0.statuses[service] }
    }

    /// Changes statuses and tells the watchers of each changed service.
    public func set(_ status: Status, for services: [String]) {
        state.withLock { state in
            for service in services where state.statuses[service] != status {
                state.statuses[service] = status
                for watcher in state.watchers.values where watcher.service == service {
                    watcher.continuation.yield(status)
                }
            }
        }
    }

    /// Every service, the server's own "" included.
    public func setAll(_ status: Status) {
        set(status, for: state.withLock { Array($0.statuses.keys) })
    }

    public func register(in router: inout Router) {
        router.unary("/grpc.health.v1.Health/Check") { (request: HealthCheckRequest, _) in
            guard let status = self.status(of: request.service) else {
                throw GRPCStatus(.notFound, "unknown service \"\(request.service)\"")
            }
            return HealthCheckResponse(status: status)
        }
        // Watches need no token: held to limits of their own, so that they cannot pile up.
        router.limitOpenCalls(of: "/grpc.health.v1.Health/Watch", perConnection: 100, total: 10_000)
        router.serverStreaming("/grpc.health.v1.Health/Watch") {
            (request: HealthCheckRequest, _, writer: MessageWriter<HealthCheckResponse>) in
            guard let updates = self.watch(request.service) else {
                throw GRPCStatus(.unavailable, "the server is shutting down")
            }
            defer { self.watchReturned() }
            for await status in updates {
                try await writer.send(HealthCheckResponse(status: status))
            }
            try Task.checkCancellation()
            throw GRPCStatus(.unavailable, "the server is shutting down")
        }
    }

    /// For shutdown: every Watch call sends the statuses it has not sent yet
    /// (NOT_SERVING, after `setAll(.notServing)`), then ends UNAVAILABLE.
    /// Returns when they all have.
    public func endWatches() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let watchers = state.withLock { state in
                state.ending = true
                if state.runningWatches == 0 {
                    continuation.resume()
                } else {
                    state.watchesEnded.append(continuation)
                }
                return Array(state.watchers.values)
            }
            for watcher in watchers { watcher.continuation.finish() }
        }
    }

    private func watchReturned() {
        let ended = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.runningWatches -= 1
            guard state.runningWatches == 0 else { return [] }
            defer { state.watchesEnded = [] }
            return state.watchesEnded
        }
        for continuation in ended { continuation.resume() }
    }

    /// The current status, then each change; ends when the watching task is
    /// cancelled or watches end. Nil once watches have ended.
    private func watch(_ service: String) -> AsyncStream<Status>? {
        let (stream, continuation) = AsyncStream.makeStream(of: Status.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> Int? in
            guard !state.ending else { return nil }
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.runningWatches += 1
            state.watchers[id] = (service, continuation)
            continuation.yield(state.statuses[service] ?? .serviceUnknown)
            return id
        }
        guard let id else { return nil }
        continuation.onTermination = { _ in
            _ = self.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}
