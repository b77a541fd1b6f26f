import CoreMetrics
import NIOConcurrencyHelpers

/// Every call's status and duration, by method, through swift-metrics
/// (the names and labels are go-grpc-prometheus's, which existing
/// dashboards know): `grpc_server_handled_total{grpc_service, grpc_method,
/// grpc_code}` and `grpc_server_handling_seconds{grpc_service, grpc_method}`.
/// A path no handler serves counts as method "unknown", so that a client
/// cannot grow the label sets without bound.
final class RPCMetrics: Sendable {
    static let shared = RPCMetrics()

    private struct Method {
        let service: String
        let method: String
        let duration: Timer
        var handled: [GRPCStatus.Code: Counter] = [:]
    }

    private let methods = NIOLockedValueBox<[String: Method]>([:])

    /// A call of `path` (nil: not one the router serves) ended with `code`.
    func record(path: String?, _ code: GRPCStatus.Code, since opened: ContinuousClock.Instant) {
        let (seconds, attoseconds) = opened.duration(to: .now).components
        let key = path ?? ""
        let (duration, counter) = methods.withLockedValue { methods in
            var method = methods[key] ?? Self.method(path)
            let counter = method.handled[code] ?? Counter(
                label: "grpc_server_handled_total",
                dimensions: [("grpc_service", method.service), ("grpc_method", method.method), ("grpc_code", code.name)])
            method.handled[code] = counter
            methods[key] = method
            return (method.duration, counter)
        }
        counter.increment()
        duration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    private static func method(_ path: String?) -> Method {
        // "/spool.v1.JobQueue/Enqueue"
        let parts = (path ?? "").split(separator: "/", maxSplits: 1)
        let (service, method) = parts.count == 2 ? (String(parts[0]), String(parts[1])) : ("unknown", "unknown")
        return Method(service: service, method: method,
                      duration: Timer(label: "grpc_server_handling_seconds",
                                      dimensions: [("grpc_service", service), ("grpc_method", method)]))
    }
}

extension GRPCStatus.Code {
    /// The name gRPC's Go library prints, as go-grpc-prometheus labels it.
    var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "Canceled"
        case .unknown: "Unknown"
        case .invalidArgument: "InvalidArgument"
        case .deadlineExceeded: "DeadlineExceeded"
        case .notFound: "NotFound"
        case .alreadyExists: "AlreadyExists"
        case .permissionDenied: "PermissionDenied"
        case .resourceExhausted: "ResourceExhausted"
        case .failedPrecondition: "FailedPrecondition"
        case .aborted: "Aborted"
        case .outOfRange: "OutOfRange"
        case .unimplemented: "Unimplemented"
        case .internal: "Internal"
        case .unavailable: "Unavailable"
        case .dataLoss: "DataLoss"
        case .unauthenticated: "Unauthenticated"
        }
    }
}
