import GRPCH2

/// `authorization: Bearer <token>` (DESIGN.md §7): with tokens configured,
/// every call but health checks must carry one of them.
struct BearerAuthorization: Sendable {
    /// Load balancers and orchestrators probe health without credentials.
    static let exemptPrefixes = ["/grpc.health.v1.Health/"]

    /// A keyed digest of each token: 128 bits from two SipHash runs
    /// (Swift's `Hasher`, keyed with a random seed per process).
    private let digests: [Digest]
    private let tokens: [[UInt8]]

    init(tokens: [String]) {
        self.tokens = tokens.map { Array($0.utf8) }
        digests = self.tokens.map(Digest.init)
    }

    func check(_ context: RPCContext) throws(GRPCStatus) {
        guard let header = context.metadata["authorization"] else {
            throw GRPCStatus(.unauthenticated, "this server needs the metadata \"authorization: Bearer <token>\"")
        }
        let scheme = "Bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme.lowercased() else {
            throw GRPCStatus(.unauthenticated, "authorization must be \"Bearer <token>\"")
        }
        guard matches(Array(header.utf8.dropFirst(scheme.utf8.count))) else {
            throw GRPCStatus(.unauthenticated, "the bearer token is not one this server accepts")
        }
    }

    /// Whether `presented` is one of the tokens. The time taken depends on
    /// the presented token's length and on how many tokens there are, never
    /// on the tokens' lengths or bytes: what is compared is fixed-size
    /// digests, every one of them in full. Only a digest that matches (the
    /// token itself, short of a 2^-128 chance) is confirmed byte for byte.
    func matches(_ presented: [UInt8]) -> Bool {
        let digest = Digest(presented)
        var matched: Int?
        for (index, candidate) in digests.enumerated() where candidate.equalsInConstantTime(digest) { matched = index }
        guard let matched else { return false }
        return tokens[matched] == presented
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
