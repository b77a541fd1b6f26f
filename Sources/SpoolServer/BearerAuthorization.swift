import GRPCH2

/// `authorization: Bearer <token>` (DESIGN.md §7): with tokens configured,
/// every call but health checks must carry one of them.
struct BearerAuthorization: Sendable {
    /// Load balancers and orchestrators probe health without credentials.
    static let exemptPrefixes = ["/grpc.health.v1.Health/"]

    private let tokens: [[UInt8]]

    init(tokens: [String]) {
        self.tokens = tokens.map { Array($0.utf8) }
    }

    func check(_ context: RPCContext) throws(GRPCStatus) {
        guard let header = context.metadata["authorization"] else {
            throw GRPCStatus(.unauthenticated, "this server needs the metadata \"authorization: Bearer <token>\"")
        }
        let scheme = "Bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme.lowercased() else {
            throw GRPCStatus(.unauthenticated, "authorization must be \"Bearer <token>\"")
        }
        let presented = Array(header.utf8.dropFirst(scheme.utf8.count))
        // Every token is compared in full, so the time taken tells nothing.
        var matched = false
        for token in tokens where Self.constantTimeEqual(token, presented) { matched = true }
        guard matched else { throw GRPCStatus(.unauthenticated, "the bearer token is not one this server accepts") }
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
