#if canImport(Glibc)
import Glibc
#endif
import GRPCH2
import NIOCore
import SpoolPostgres
import SpoolServer
import Synchronization

/// A node's part in a cluster on one PostgreSQL database (docs/cluster.md).
/// It follows (forwards calls to the leader, `SpoolServer.startFollower`)
/// until it takes the lease; then it leads: its writes are fenced with the
/// lease's token, and it renews the lease. A leader that cannot renew for a
/// whole lease, or finds the lease taken, exits at once (code 3): another
/// node leads by then, and its supervisor restarts it as a follower.
final class Leadership: Sendable {
    let lease: LeaderLease
    let token: Int64
    /// The port this node listens on (its follower's, kept when it leads).
    let port: Int
    private let lastRenewal: Mutex<ContinuousClock.Instant>
    private let health = Mutex<HealthService?>(nil)
    private let tasks = Mutex<[Task<Void, Never>]>([])

    private init(lease: LeaderLease, token: Int64, port: Int, acquiredAt: ContinuousClock.Instant) {
        self.lease = lease
        self.token = token
        self.port = port
        lastRenewal = Mutex(acquiredAt)
    }

    /// Follows until this node takes the lease (answering its Leadership,
    /// its writes already fenced), or until a signal (nil).
    static func follow(
        store: PostgresJobStore, settings: SpoolConfiguration, configuration: GRPCServer.Configuration, tokens: Tokens,
        group: any EventLoopGroup, signals: SignalLatch
    ) async throws -> Leadership? {
        let link = LeaderLink(group: group)
        let follower = try await SpoolServer.startFollower(link: link, configuration: configuration, tokens: tokens,
                                                           http: settings.http, group: group)
        // Read now: a closed server has no port.
        let port = follower.port
        let address = settings.advertise ?? Spoold.reachable(configuration.host, port)
        let lease = LeaderLease(store: store, holder: "\(hostName()) pid \(getpid()) at \(address)", address: address,
                                leaseSeconds: settings.leaseSeconds)
        Log.line("spoold: follower listening on \(configuration.host):\(port) (advertised as \(address))")
        var announced: String??
        var databaseTrouble: String?
        while signals.received == nil {
            do {
                if let token = try await lease.tryAcquire() {
                    // The take may have waited for the old holder's last
                    // write: a renewal at once times the lease from now.
                    let renewed = ContinuousClock.now
                    guard try await lease.renew(token: token) else { continue }
                    Log.line("spoold: took the leader lease (token \(token))")
                    await follower.shutdown(gracePeriod: .seconds(1))
                    store.fence(token: token)
                    let leadership = Leadership(lease: lease, token: token, port: port, acquiredAt: renewed)
                    leadership.keep(store: store)
                    return leadership
                }
                databaseTrouble = nil
                let holder = try await lease.current()
                var leader = holder.flatMap { $0.isLive ? $0.address : nil }
                if leader == address {
                    // Another node advertises this node's address: forwarding there would loop.
                    if announced != .some(nil) {
                        Log.line("spoold: the leader \(holder?.holder ?? "") advertises this node's own address \(address); "
                                 + "give each node its own --advertise")
                    }
                    leader = nil
                }
                link.setLeader(leader)
                if announced != .some(leader) {
                    Log.line(leader.map { "spoold: following the leader at \($0)" } ?? "spoold: no leader holds the lease")
                    announced = .some(leader)
                }
                var reachable = false
                if leader != nil { reachable = await link.isReachable() }
                follower.health.setAll(reachable ? .serving : .notServing)
            } catch {
                follower.health.setAll(.notServing)
                if databaseTrouble != "\(error)" { Log.line("spoold: cannot reach the database: \(error)") }
                databaseTrouble = "\(error)"
            }
            await signals.sleep(.seconds(settings.leaseSeconds / 8))
        }
        await follower.shutdown(gracePeriod: .seconds(1))
        return nil
    }

    /// The leader's server: its health follows the lease's renewals.
    func serving(_ health: HealthService) {
        self.health.withLock { $0 = health }
    }

    /// Renews the lease a few times per lease; and watches the time since
    /// the last renewal, exiting once a whole lease passed without one (a
    /// database out of reach, or this process paused): by then another
    /// node may lead.
    private func keep(store: PostgresJobStore) {
        let seconds = lease.leaseSeconds
        let renewer = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(seconds / 4))
                let started = ContinuousClock.now
                do {
                    guard try await lease.renew(token: token) else {
                        let holder = try? await lease.current()
                        Self.abdicate("the lease was taken by \(holder?.holder ?? "another node") (token \(holder?.token ?? 0))")
                    }
                    lastRenewal.withLock { $0 = max($0, started) }
                    health.withLock { $0 }?.setAll(.serving)
                } catch {
                    guard !Task.isCancelled else { return }
                    Log.line("spoold: cannot renew the leader lease: \(error)")
                    health.withLock { $0 }?.setAll(.notServing)
                }
            }
        }
        let watchdog = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                let since = lastRenewal.withLock { $0 }.duration(to: .now)
                // Renewals are timed from before they were sent, so this
                // node gives up no later than the database's expiry.
                if since > .seconds(seconds) {
                    Self.abdicate("no renewal for \(since.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
                }
            }
        }
        tasks.withLock { $0 = [renewer, watchdog] }
    }

    /// Lets the lease go, for another node to lead at once (a clean shutdown).
    func resign() async {
        tasks.withLock { $0 }.forEach { $0.cancel() }
        do {
            try await lease.release(token: token)
            Log.line("spoold: released the leader lease")
        } catch {
            Log.line("spoold: cannot release the leader lease (it expires by itself): \(error)")
        }
    }

    private static func abdicate(_ reason: String) -> Never {
        Log.line("spoold: lost the leader lease: \(reason); exiting so that this node writes nothing more")
        exit(3)
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
