/// What a handler knows about its call besides the request messages.
public struct RPCContext: Sendable {
    /// `/package.Service/Method`.
    public let path: String
    public let metadata: Metadata
    /// When the client stops waiting (from `grpc-timeout`); the call is
    /// cancelled then and answered DEADLINE_EXCEEDED.
    public let deadline: ContinuousClock.Instant?
    /// The client's address, `HOST:PORT` ("" when unknown).
    public let peer: String

    public init(path: String, metadata: Metadata = Metadata(), deadline: ContinuousClock.Instant? = nil, peer: String = "") {
        self.path = path
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
    }
}
