import PostgresNIO
import SpoolCore
import Synchronization

/// The lease that makes one node of several on one database the leader: a
/// row of `leader_lease` with its holder, the address clients are sent
/// to, an expiry in the database's own time, and a token that grows by one
/// at every change of holder.
///
/// A row, not an advisory lock: an advisory lock lives as long as its
/// session, so a leader paused by SIGSTOP, or cut off while the database
/// still sees its TCP connection, keeps it for as long as that lasts (TCP
/// keep-alive: minutes). A row's lease ends at its expiry whatever the
/// holder's state, and its token fences the old holder's writes
/// (`PostgresJobStore.fence(token:)`). Expiry is read on the database's
/// clock only, so the nodes' clocks need not agree.
public struct LeaderLease: Sendable {
    public struct Holder: Sendable, Equatable {
        public var holder: String
        public var address: String
        public var token: Int64
        /// Whether its expiry is still ahead (by the database's clock).
        public var isLive: Bool
    }

    let store: PostgresJobStore
    public let holder: String
    public let address: String
    public let leaseSeconds: Double

    public init(store: PostgresJobStore, holder: String, address: String, leaseSeconds: Double) {
        self.store = store
        self.holder = holder
        self.address = address
        self.leaseSeconds = leaseSeconds
    }

    private var interval: String { "\(Int64((leaseSeconds * 1000).rounded())) milliseconds" }

    /// Takes the lease if nobody holds it or its holder let it expire; the
    /// new token, or nil if another node holds it. Waits for a write of the
    /// old holder in flight to commit (its share lock on the row).
    public func tryAcquire() async throws -> Int64? {
        try await query("""
            INSERT INTO leader_lease (name, token, holder, address, expires_at)
            VALUES ('leader', 1, \(holder), \(address), clock_timestamp() + \(interval)::interval)
            ON CONFLICT (name) DO UPDATE SET token = leader_lease.token + 1, holder = excluded.holder,
                address = excluded.address, expires_at = excluded.expires_at
            WHERE leader_lease.expires_at < clock_timestamp()
            RETURNING token
            """)
    }

    /// Pushes the expiry on; false if the lease is no longer this holder's
    /// with this token.
    public func renew(token: Int64) async throws -> Bool {
        try await query("""
            UPDATE leader_lease SET expires_at = clock_timestamp() + \(interval)::interval
            WHERE name = 'leader' AND holder = \(holder) AND token = \(token) RETURNING token
            """) != nil
    }

    /// Lets the lease go at once (a leader shutting down cleanly), so that
    /// another node takes over without waiting for the expiry.
    public func release(token: Int64) async throws {
        _ = try await query("""
            UPDATE leader_lease SET expires_at = clock_timestamp() - interval '1 millisecond'
            WHERE name = 'leader' AND holder = \(holder) AND token = \(token) RETURNING token
            """)
    }

    /// Who holds the lease, if anyone ever did.
    public func current() async throws -> Holder? {
        try await bounded { [store] in try await store.client.withConnection { connection in
            let rows = try await connection.query(
                "SELECT holder, address, token, expires_at > clock_timestamp() FROM leader_lease WHERE name = 'leader'",
                logger: PostgresJobStore.logger)
            var found: Holder?
            for try await (holder, address, token, live) in rows.decode((String, String, Int64, Bool).self) {
                found = Holder(holder: holder, address: address, token: token, isLive: live)
            }
            return found
        } }
    }

    /// Ends the lease now whoever holds it (tests: a lease run out).
    func expireForTests() async throws {
        _ = try await query("UPDATE leader_lease SET expires_at = clock_timestamp() - interval '1 second' WHERE name = 'leader' RETURNING token")
    }

    private func query(_ query: PostgresQuery) async throws -> Int64? {
        do {
            return try await bounded { [store] in
                try await store.client.withConnection { connection in
                    try await PostgresJobStore.single(Int64.self, connection.query(query, logger: PostgresJobStore.logger))
                }
            }
        } catch {
            throw PostgresStoreError.from(error)
        }
    }

    /// `body`'s answer, or an error once half a lease has passed without
    /// one: with the database out of reach, postgres-nio waits for a
    /// connection as long as it is let, and a node must notice in time.
    /// (The work left behind ends by itself, or with the connection.)
    private func bounded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = Duration.seconds(leaseSeconds / 2)
        let answer = Answer<T>()
        return try await withCheckedThrowingContinuation { continuation in
            answer.waiting.withLock { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                answer.resume(with: result)
            }
            Task {
                try? await Task.sleep(for: limit)
                work.cancel()
                answer.resume(with: .failure(PostgresStoreError.database("no answer from the database in \(limit)")))
            }
        }
    }
}

/// A continuation resumed once, by whichever comes first.
private final class Answer<T: Sendable>: Sendable {
    let waiting = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func resume(with result: Result<T, any Error>) {
        waiting.withLock { $0.take() }?.resume(with: result)
    }
}

extension PostgresJobStore {
    /// Drops a schema and everything in it (benchmarks clean up after themselves).
    public func dropSchema(_ name: String) async throws {
        guard PostgresLocation.isPlainName(name) else { throw PostgresStoreError.badLocation("schema \(name) is not a plain name") }
        try await executeForTests("DROP SCHEMA IF EXISTS \(name) CASCADE")
    }

    /// Runs a statement outside any fence (tests).
    func executeForTests(_ sql: String) async throws {
        try await client.withConnection { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger)
        }
    }
}
