import GRPCH2
import SpoolWire

// The call layer: the router decodes and encodes wire types through these.

extension GRPCMessage where Self: WireMessage {
    public init(grpcPayload: [UInt8]) throws { try self.init(serializedBytes: grpcPayload) }
    public func grpcPayload() -> [UInt8] { serializedBytes() }
}

extension HealthCheckRequest: GRPCMessage {}
extension HealthCheckResponse: GRPCMessage {}
extension ReflectionRequest: GRPCMessage {}
extension ReflectionResponse: GRPCMessage {}
extension EnqueueRequest: GRPCMessage {}
extension EnqueueResponse: GRPCMessage {}
extension EnqueueBatchRequest: GRPCMessage {}
extension EnqueueBatchResponse: GRPCMessage {}
extension CancelRequest: GRPCMessage {}
extension CancelResponse: GRPCMessage {}
extension StreamProgressRequest: GRPCMessage {}
extension ProgressEvent: GRPCMessage {}
extension GetStatusRequest: GRPCMessage {}
extension GetStatusResponse: GRPCMessage {}
extension WorkerMessage: GRPCMessage {}
extension WorkerCommandMessage: GRPCMessage {}
extension ListJobsRequest: GRPCMessage {}
extension ListJobsResponse: GRPCMessage {}
extension RetryRequest: GRPCMessage {}
extension RetryResponse: GRPCMessage {}
extension UpdateQueueRequest: GRPCMessage {}
extension UpdateQueueResponse: GRPCMessage {}
extension EnqueueStreamRequest: GRPCMessage {}
extension EnqueueStreamResponse: GRPCMessage {}
