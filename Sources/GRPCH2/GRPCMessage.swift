/// A message the router can decode from and encode to the bytes of a gRPC
/// frame. The transport never looks inside; conformances live above it.
public protocol GRPCMessage: Sendable {
    /// Decodes a request; a thrown error answers the call INVALID_ARGUMENT.
    init(grpcPayload: [UInt8]) throws
    func grpcPayload() -> [UInt8]
}
