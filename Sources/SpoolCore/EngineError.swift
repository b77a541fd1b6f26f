/// Why the engine refused a request. The service maps each case to one gRPC
/// status code.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case notFound(String)
    case resourceExhausted(String)
    /// The job or queue is not in a state that allows the request.
    case failedPrecondition(String)
    /// The engine is shutting down or not started.
    case unavailable(String)
    /// Storage failed; nothing of the request was accepted.
    case storage(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message), .notFound(let message), .resourceExhausted(let message),
             .failedPrecondition(let message), .unavailable(let message), .storage(let message):
            message
        }
    }
}
