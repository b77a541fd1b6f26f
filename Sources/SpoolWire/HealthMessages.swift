import SpoolProtoC

/// grpc.health.v1.HealthCheckRequest
public struct HealthCheckRequest: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public var service: String

    public init(service: String = "") {
        self.service = service
    }

    static var initializeC: (UnsafeMutablePointer<Grpc__Health__V1__HealthCheckRequest>?) -> Void {
        grpc__health__v1__health_check_request__init
    }

    init(c: UnsafePointer<Grpc__Health__V1__HealthCheckRequest>) {
        service = CRead.string(c.pointee.service)
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Health__V1__HealthCheckRequest>, arena: CArena) {
        c.pointee.service = arena.string(service)
    }
}

/// grpc.health.v1.HealthCheckResponse
public struct HealthCheckResponse: Equatable, WireMessage, ProtobufCBridged {
    public init(serializedBytes bytes: [UInt8]) throws(WireDecodingError) { try self.init(unpacking: bytes) }
    public func serializedBytes() -> [UInt8] { packed() }

    public enum ServingStatus: UInt32, Sendable {
        case unknown = 0
        case serving = 1
        case notServing = 2
        case serviceUnknown = 3
    }

    public var status: ServingStatus

    public init(status: ServingStatus) {
        self.status = status
    }

    static var initializeC: (UnsafeMutablePointer<Grpc__Health__V1__HealthCheckResponse>?) -> Void {
        grpc__health__v1__health_check_response__init
    }

    init(c: UnsafePointer<Grpc__Health__V1__HealthCheckResponse>) {
        status = ServingStatus(rawValue: c.pointee.status.rawValue) ?? .unknown
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Health__V1__HealthCheckResponse>, arena: CArena) {
        c.pointee.status = Grpc__Health__V1__HealthCheckResponse__ServingStatus(rawValue: status.rawValue)
    }
}
