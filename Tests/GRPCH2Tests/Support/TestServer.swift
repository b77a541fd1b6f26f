import GRPCH2
import NIOPosix
import Synchronization

/// A GRPCServer on a free loopback port with the given router.
struct TestServer {
    let server: GRPCServer
    let group: MultiThreadedEventLoopGroup
    var address: String { "127.0.0.1:\(server.port)" }

    static func start(_ router: Router, configure: (inout GRPCServer.Configuration) -> Void = { _ in }) async throws -> TestServer {
        var configuration = GRPCServer.Configuration()
        configuration.port = 0
        configure(&configuration)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await GRPCServer.start(router: router, configuration: configuration, group: group)
        return TestServer(server: server, group: group)
    }

    func stop() async throws {
        await server.shutdown(gracePeriod: .seconds(5))
        try await group.shutdownGracefully()
    }
}

/// Events that handlers report to the test. `wait(for:)` returns once the
/// event has been recorded, before or after the call, in any order.
final class Events: Sendable {
    private struct State {
        var recorded: Set<String> = []
        var waiters: [(event: String, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    func record(_ event: String) {
        let ready = state.withLock { state in
            state.recorded.insert(event)
            let ready = state.waiters.filter { $0.event == event }
            state.waiters.removeAll { $0.event == event }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    func wait(for event: String) async {
        await withCheckedContinuation { continuation in
            let seen = state.withLock { state in
                if state.recorded.contains(event) { return true }
                state.waiters.append((event, continuation))
                return false
            }
            if seen { continuation.resume() }
        }
    }
}

extension Task where Success == Never, Failure == Never {
    /// Suspends until the current task is cancelled.
    static func untilCancelled() async {
        let never = AsyncStream<Never>.makeStream().stream
        for await _ in never {}
    }
}
