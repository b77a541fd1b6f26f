import GRPCH2

/// The bearer tokens spoold accepts, by what they may do (docs/configuration.md: auth).
public struct Tokens: Sendable {
    /// For services that submit, cancel and watch jobs (`spool.v1.JobQueue`).
    public var clients: [String] = []
    /// For remote workers (`spool.v1.Workers`). When empty, workers use a
    /// client token. A token in both lists may do both.
    public var workers: [String] = []

    public init(clients: [String] = [], workers: [String] = []) {
        self.clients = clients
        self.workers = workers
    }

    public var isEnabled: Bool { !clients.isEmpty || !workers.isEmpty }
}

/// `authorization: Bearer <token>` (docs/design.md §7): with tokens configured,
/// every call but health checks must carry one, of the kind its service
/// takes: a worker token takes jobs and cannot enqueue or cancel; a client
/// token does the rest and, once worker tokens are configured, cannot take jobs.
struct BearerAuthorization: Sendable {
    /// Load balancers and orchestrators probe health without credentials.
    static let exemptPrefixes = ["/grpc.health.v1.Health/"]
    static let workerPrefix = "/spool.v1.Workers/"
    static let reflectionPrefix = "/grpc.reflection."

    struct Powers: OptionSet {
        let rawValue: UInt8
        static let client = Powers(rawValue: 1)
        static let worker = Powers(rawValue: 2)
    }

    /// A keyed digest of each token: 128 bits from two SipHash runs
    /// (Swift's `Hasher`, keyed with a random seed per process).
    private let digests: [Digest]
    private let tokens: [[UInt8]]
    private let powers: [Powers]

    init(tokens: [String]) {
        self.init(Tokens(clients: tokens))
    }

    init(_ configured: Tokens) {
        var powers: [[UInt8]: Powers] = [:]
        for token in configured.clients { powers[Array(token.utf8), default: []].insert(.client) }
        // Without worker tokens, the client tokens take jobs too (one token for a small setup).
        for token in configured.workers.isEmpty ? configured.clients : configured.workers {
            powers[Array(token.utf8), default: []].insert(.worker)
        }
        let sorted = powers.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        tokens = sorted.map(\.key)
        self.powers = sorted.map(\.value)
        digests = tokens.map(Digest.init)
    }

    func check(_ context: RPCContext) throws(GRPCStatus) {
        guard let header = context.metadata["authorization"] else {
            throw GRPCStatus(.unauthenticated, "this server needs the metadata \"authorization: Bearer <token>\"")
        }
        let scheme = "Bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme.lowercased() else {
            throw GRPCStatus(.unauthenticated, "authorization must be \"Bearer <token>\"")
        }
        guard let index = match(Array(header.utf8.dropFirst(scheme.utf8.count))) else {
            throw GRPCStatus(.unauthenticated, "the bearer token is not one this server accepts")
        }
        if context.path.hasPrefix(Self.reflectionPrefix) { return }
        if context.path.hasPrefix(Self.workerPrefix) {
            guard powers[index].contains(.worker) else {
                throw GRPCStatus(.permissionDenied, "this token cannot take jobs: spool.v1.Workers needs one of auth.worker_tokens")
            }
        } else if !powers[index].contains(.client) {
            throw GRPCStatus(.permissionDenied, "this is a worker token: it can take jobs (spool.v1.Workers) only, "
                             + "not call \(context.path)")
        }
    }

    /// Whether `presented` is one of the tokens. The time taken depends on
    /// the presented token's length and on how many tokens there are, never
    /// on the tokens' lengths or bytes: what is compared is fixed-size
    /// digests, every one of them in full. Only a digest that matches (the
    /// token itself, short of a 2^-128 chance) is confirmed byte for byte.
    func matches(_ presented: [UInt8]) -> Bool {
        match(presented) != nil
    }

    /// The index of the token `presented` is, if any.
    private func match(_ presented: [UInt8]) -> Int? {
        let digest = Digest(presented)
        var matched: Int?
        for (index, candidate) in digests.enumerated() where candidate.equalsInConstantTime(digest) { matched = index }
        guard let matched, tokens[matched] == presented else { return nil }
        return matched
    }

    struct Digest {
        let high: UInt64
        let low: UInt64

        init(_ bytes: [UInt8]) {
            func sipHash(_ domain: UInt8) -> UInt64 {
                var hasher = Hasher()
                hasher.combine(domain)
                bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
                return UInt64(bitPattern: Int64(hasher.finalize()))
            }
            high = sipHash(1)
            low = sipHash(2)
        }

        func equalsInConstantTime(_ other: Digest) -> Bool {
            (high ^ other.high) | (low ^ other.low) == 0
        }
    }
}
